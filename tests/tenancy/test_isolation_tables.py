"""No table outside isolation: many-to-many links and cross-row references.

As the runtime role in tenant A's context, raw SQL reaches none of tenant B's customer
group or contact role links (read, delete, insert), and the database refuses a row of
tenant A that points at one of tenant B's rows (the foreign keys include tenant_id).

The link tables are found through the model fields (``Customer.groups.through``), so
the same tests held against Django's auto-created tables would fail.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from customers.models import Contact, Customer
from tenancy.context import tenant_context
from tenancy.models import ReferenceRegister
from tests.factories import ReferenceEntryFactory, make_customer

R = ReferenceRegister

LINKS = {
    # relation: (model, field, register of the linked entry)
    "groups": (Customer, "groups", R.CUSTOMER_GROUP),
    "roles": (Contact, "roles", R.CONTACT_ROLE),
}


class Side:
    """One tenant's customer, contact, group and role, linked."""

    def __init__(self, tenant, prefix: str):
        self.tenant = tenant
        with tenant_context(tenant):
            self.group = ReferenceEntryFactory(register=R.CUSTOMER_GROUP, code=f"{prefix}G")
            self.role = ReferenceEntryFactory(register=R.CONTACT_ROLE, code=f"{prefix}R")
            self.customer = make_customer(name=f"{prefix} Kund AB", groups=[self.group])
            self.contact = Contact.objects.create(number=1, last_name=f"{prefix} Person")
            self.contact.roles.add(self.role)
            # Entries not linked yet: a new link to them is refused for no other reason.
            self.spare_group = ReferenceEntryFactory(register=R.CUSTOMER_GROUP, code=f"{prefix}G2")
            self.spare_role = ReferenceEntryFactory(register=R.CONTACT_ROLE, code=f"{prefix}R2")

    def owner(self, relation: str):
        return self.customer if relation == "groups" else self.contact

    def entry(self, relation: str):
        return self.group if relation == "groups" else self.role

    def spare(self, relation: str):
        return self.spare_group if relation == "groups" else self.spare_role


@pytest.fixture
def sides(personas):
    return Side(personas.tenant_a, "A"), Side(personas.tenant_b, "B")


def _link_table(relation: str) -> tuple[str, str, str, bool]:
    """(table, owner column, entry column, whether it has tenant_id) of a relation."""
    model, name, _register = LINKS[relation]
    field = model._meta.get_field(name)
    through = field.remote_field.through
    has_tenant = any(f.column == "tenant_id" for f in through._meta.local_fields)
    return through._meta.db_table, field.m2m_column_name(), field.m2m_reverse_name(), has_tenant


def _insert_link(relation: str, tenant, owner, entry) -> None:
    table, owner_col, entry_col, has_tenant = _link_table(relation)
    columns, values = [owner_col, entry_col], [owner.pk, entry.pk]
    if has_tenant:
        columns.insert(0, "tenant_id")
        values.insert(0, tenant.pk)
    placeholders = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
            values,
        )


def _deferred_checks_now() -> None:
    """Django's foreign keys (and their tenant twins) are checked at commit; a test's
    transaction never commits, so ask for the check at once."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize("relation", sorted(LINKS))
def test_orm_api_writes_links_of_the_active_tenant(sides, relation):
    a, _b = sides
    model, name, register = LINKS[relation]
    with tenant_context(a.tenant):
        owner = model.objects.get(pk=a.owner(relation).pk)
        second = ReferenceEntryFactory(register=register, code="A2")
        getattr(owner, name).add(second)
        assert set(getattr(owner, name).all()) == {a.entry(relation), second}
        getattr(owner, name).set([second])
        assert list(getattr(owner, name).all()) == [second]
        getattr(owner, name).remove(second)
        assert not getattr(owner, name).exists()
        getattr(owner, name).set([a.entry(relation), second])
        table = _link_table(relation)[0]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT tenant_id FROM {table}")  # noqa: S608
            assert cursor.fetchall() == [(a.tenant.pk,)]


@pytest.mark.parametrize("relation", sorted(LINKS))
def test_raw_sql_reads_none_of_another_tenants_links(sides, relation):
    a, b = sides
    table, owner_col, _entry_col, _t = _link_table(relation)
    with tenant_context(a.tenant), connection.cursor() as cursor:
        cursor.execute(f"SELECT {owner_col} FROM {table}")  # noqa: S608
        assert {row[0] for row in cursor.fetchall()} == {a.owner(relation).pk}
        cursor.execute(
            f"SELECT count(*) FROM {table} WHERE {owner_col} = %s",  # noqa: S608
            [b.owner(relation).pk],
        )
        assert cursor.fetchone() == (0,)


@pytest.mark.parametrize("relation", sorted(LINKS))
def test_raw_sql_deletes_none_of_another_tenants_links(sides, relation):
    a, b = sides
    table, owner_col, _entry_col, _t = _link_table(relation)
    with tenant_context(a.tenant), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {owner_col} = %s",  # noqa: S608
            [b.owner(relation).pk],
        )
        assert cursor.rowcount == 0
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        assert cursor.rowcount == 1  # A's own link only
    model, name, _register = LINKS[relation]
    with tenant_context(b.tenant):
        owner = model.objects.get(pk=b.owner(relation).pk)
        assert list(getattr(owner, name).all()) == [b.entry(relation)]


@pytest.mark.parametrize("relation", sorted(LINKS))
def test_raw_sql_inserts_no_link_for_another_tenant(sides, relation):
    a, b = sides
    with (
        tenant_context(a.tenant),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
    ):
        _insert_link(relation, b.tenant, b.owner(relation), b.spare(relation))
        _deferred_checks_now()


@pytest.mark.parametrize("relation", sorted(LINKS))
@pytest.mark.parametrize("foreign", ["owner", "entry"])
def test_a_link_of_tenant_a_to_a_row_of_tenant_b_is_refused(sides, relation, foreign):
    a, b = sides
    owner = (b if foreign == "owner" else a).owner(relation)
    entry = (b if foreign == "entry" else a).spare(relation)
    with (
        tenant_context(a.tenant),
        pytest.raises(IntegrityError, match="tenant_fk"),
        transaction.atomic(),
    ):
        _insert_link(relation, a.tenant, owner, entry)
        _deferred_checks_now()


ADDRESS_SQL = (
    "INSERT INTO customers_address (tenant_id, customer_id, kind, is_head_office, line1, "
    "line2, postcode, city, country, created_at, updated_at) "
    "VALUES (%s, %s, 'postal', false, 'Storgatan 1', '', '', '', 'SE', now(), now())"
)


def test_an_address_for_another_tenants_customer_is_refused(sides):
    a, b = sides
    with tenant_context(a.tenant):
        # The same row for A's own customer is fine: only the tenant mismatch is refused.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(ADDRESS_SQL, [a.tenant.pk, a.customer.pk])
            _deferred_checks_now()
        with (
            pytest.raises(IntegrityError, match="customers_address_customer_id_tenant_fk"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(ADDRESS_SQL, [a.tenant.pk, b.customer.pk])
            _deferred_checks_now()


def test_a_contact_for_another_tenants_customer_is_refused(sides):
    a, b = sides
    sql = (
        "INSERT INTO customers_customercontact (tenant_id, customer_id, contact_id, created_at) "
        "VALUES (%s, %s, %s, now())"
    )
    with (
        tenant_context(a.tenant),
        pytest.raises(IntegrityError, match="customers_customercontact_customer_id_tenant_fk"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [a.tenant.pk, b.customer.pk, a.contact.pk])
        _deferred_checks_now()


def test_a_customer_cannot_take_another_tenants_reference_entry(sides):
    a, b = sides
    with (
        tenant_context(a.tenant),
        pytest.raises(IntegrityError, match="tenant_fk"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE customers_customer SET district_id = %s WHERE id = %s",
            [b.group.pk, a.customer.pk],
        )
        _deferred_checks_now()
