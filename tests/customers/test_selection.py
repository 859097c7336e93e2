"""The own selection and saved lists, through their services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from customers.models import SavedList, SelectionEntry
from customers.selectors import selection_of
from customers.services.selections import (
    numbers_parse,
    saved_list_delete,
    saved_list_save,
    saved_lists_visible,
    selection_add,
    selection_add_by_numbers,
    selection_clear,
    selection_remove,
)
from tenancy.context import tenant_context
from tests.factories import make_customer


@pytest.fixture
def tenant_a(personas):
    with tenant_context(personas.tenant_a):
        yield personas


def _names(user) -> list[str]:
    return [c.name for c in selection_of(user)]


def test_numbers_are_split_on_commas_semicolons_and_spaces():
    assert numbers_parse(" 1001, 1002;1003\n1004\t 1001 ,, ") == ["1001", "1002", "1003", "1004"]
    assert numbers_parse(" , ; ") == []


def test_add_returns_only_the_new_ones_and_never_duplicates(tenant_a):
    p = tenant_a
    a, b = make_customer(name="Alfa"), make_customer(name="Beta")
    assert selection_add(user=p.bob, customers=[a]) == [a]
    assert selection_add(user=p.bob, customers=[a, b, b]) == [b]
    assert SelectionEntry.objects.filter(user=p.bob).count() == 2
    assert _names(p.bob) == ["Alfa", "Beta"]


def test_add_by_numbers_reports_unknown_numbers_and_skips_present_ones(tenant_a):
    p = tenant_a
    make_customer(name="Alfa", number="1001")
    make_customer(name="Beta", number="1002")
    added, unknown = selection_add_by_numbers(user=p.bob, numbers=["1001"])
    assert [c.number for c in added] == ["1001"] and unknown == []
    added, unknown = selection_add_by_numbers(user=p.bob, numbers=["1001", "1002", "9999", "X-1"])
    assert [c.number for c in added] == ["1002"]
    assert unknown == ["9999", "X-1"]
    assert _names(p.bob) == ["Alfa", "Beta"]


def test_selections_are_per_user(tenant_a):
    p = tenant_a
    a, b = make_customer(name="Alfa"), make_customer(name="Beta")
    selection_add(user=p.bob, customers=[a])
    selection_add(user=p.alice, customers=[b])
    assert _names(p.bob) == ["Alfa"] and _names(p.alice) == ["Beta"]
    assert selection_clear(user=p.bob) == 1
    assert _names(p.bob) == [] and _names(p.alice) == ["Beta"]


def test_remove_several_at_once(tenant_a):
    p = tenant_a
    customers = [make_customer(name=n) for n in ("Alfa", "Beta", "Gamma", "Delta")]
    selection_add(user=p.bob, customers=customers)
    removed = selection_remove(user=p.bob, customer_ids=[customers[0].pk, customers[2].pk])
    assert removed == 2
    assert _names(p.bob) == ["Beta", "Delta"]
    # Removing what is not there is no error.
    assert selection_remove(user=p.bob, customer_ids=[customers[0].pk]) == 0


def test_another_tenants_customer_is_never_added(personas):
    p = personas
    with tenant_context(p.tenant_a):
        a_customer = make_customer(name="Nordljus kund", number="A-500")
    with tenant_context(p.tenant_b):
        added, unknown = selection_add_by_numbers(user=p.charlie, numbers=["A-500"])
        assert added == [] and unknown == ["A-500"]
        # Even handed the object itself, the service re-reads it within the tenant's scope.
        assert selection_add(user=p.charlie, customers=[a_customer]) == []
        assert SelectionEntry.objects.count() == 0


def test_a_saved_list_keeps_the_search_apart_from_the_filters(tenant_a):
    p = tenant_a
    saved = saved_list_save(
        user=p.bob,
        name=" Norr ",
        shared=False,
        filters={"q": "Anna Svensson", "district": 7, "status": "inactive", "page": "3", "x": "y"},
    )
    assert saved.name == "Norr"
    assert saved.filters == {"district": "7", "status": "inactive"}
    assert saved.search == "Anna Svensson"
    assert saved.query() == {"district": "7", "status": "inactive", "q": "Anna Svensson"}
    # The audit entry names which filters, never the search itself.
    event = AuditEvent.objects.get(action="saved_list.created")
    assert "Anna" not in str(event.data) and "Norr" not in str(event.data)
    assert event.data["filters"] == ["district", "q", "status"]


def test_duplicate_list_name_is_a_field_error(tenant_a):
    p = tenant_a
    saved_list_save(user=p.bob, name="Norr", filters={})
    with pytest.raises(ValidationError) as exc:
        saved_list_save(user=p.bob, name="norr", filters={"status": "inactive"})
    assert set(exc.value.message_dict) == {"name"}
    with pytest.raises(ValidationError) as exc:
        saved_list_save(user=p.bob, name="   ", filters={})
    assert set(exc.value.message_dict) == {"name"}
    # Another user may use the same name.
    saved_list_save(user=p.alice, name="Norr", filters={})
    assert SavedList.objects.count() == 2


def test_own_and_shared_lists_are_visible_others_own_are_not(tenant_a):
    p = tenant_a
    saved_list_save(user=p.bob, name="Bob own", filters={})
    saved_list_save(user=p.bob, name="Bob shared", shared=True, filters={})
    saved_list_save(user=p.alice, name="Alice own", filters={})
    assert [s.name for s in saved_lists_visible(p.bob)] == ["Bob own", "Bob shared"]
    assert [s.name for s in saved_lists_visible(p.alice)] == ["Alice own", "Bob shared"]


def test_only_the_owner_deletes_a_list(tenant_a):
    p = tenant_a
    shared = saved_list_save(user=p.bob, name="Bob shared", shared=True, filters={})
    with pytest.raises(PermissionDenied):
        saved_list_delete(user=p.alice, saved_list=shared)
    saved_list_delete(user=p.bob, saved_list=shared)
    assert not SavedList.objects.exists()
    assert AuditEvent.objects.filter(action="saved_list.deleted").count() == 1


def test_lists_belong_to_their_tenant(personas):
    p = personas
    with tenant_context(p.tenant_a):
        saved_list_save(user=p.alice, name="Shared in A", shared=True, filters={})
    with tenant_context(p.tenant_b):
        assert list(saved_lists_visible(p.charlie)) == []
