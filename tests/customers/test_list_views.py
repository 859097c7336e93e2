"""The customer list pages: search, sort, filters, tabs, pages, selection, lists, print, export."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.http import QueryDict
from django.test import Client

from audit.actors import Actor
from audit.models import AuditEvent
from customers.models import Customer, SavedList, SelectionEntry
from customers.selectors import selection_of
from customers.services.addresses import address_add
from customers.services.customers import customer_set_status
from customers.services.selections import saved_list_save, selection_add
from tenancy.context import tenant_context
from tests.factories import ReferenceEntryFactory, make_customer

URL = "/customers/"
A = "/t/nordljus"  # tenant A's pages (tenancy/url_prefix.py)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
SYSTEM = Actor.system("test")


@dataclass
class World:
    p: object
    norr: object
    syd: object
    vip: object
    bygg: object
    oster: Customer
    soren: Customer
    ahl: Customer
    gone: Customer


def _activity(customer: Customer, when: datetime | None) -> None:
    Customer.objects.filter(pk=customer.pk).update(last_activity_at=when)


@pytest.fixture
def world(personas) -> World:
    p = personas
    with tenant_context(p.tenant_a):
        norr = ReferenceEntryFactory(register="district", code="N", name="Norr")
        syd = ReferenceEntryFactory(register="district", code="S", name="Syd")
        vip = ReferenceEntryFactory(register="customer_group", code="VIP", name="Viktiga")
        bygg = ReferenceEntryFactory(register="business_area", code="BY", name="Bygg")
        oster = make_customer(
            name="Östergård Bygg AB",
            number="1003",
            email="info@ostergard.se",
            phone="070-123 45 67",
            org_number="5560360793",
            district=norr,
            business_area=bygg,
            groups=[vip],
        )
        address_add(
            customer=oster, actor=SYSTEM, line1="Storgatan 1", postcode="211 34", city="Malmö"
        )
        soren = make_customer(name="Sørensen & Søn ApS", number="1001", district=syd)
        ahl = make_customer(name="Åhléns Handel", number="1002", email="kontakt@ahlens.se")
        gone = make_customer(name="Gamla Bolaget", number="1004")
        customer_set_status(customer=gone, status="inactive", actor=SYSTEM)
        _activity(oster, datetime(2024, 5, 2, 10, tzinfo=STOCKHOLM))
        _activity(soren, datetime(2021, 3, 1, 10, tzinfo=STOCKHOLM))
        _activity(ahl, datetime(2023, 8, 15, 10, tzinfo=STOCKHOLM))
    with tenant_context(p.tenant_b):
        make_customer(name="Fjordvik Kunde AS", number="B-1", country="NO")
    return World(p, norr, syd, vip, bygg, oster, soren, ahl, gone)


def _rows(response) -> list[str]:
    """The customer names in the result table, in order."""
    html = response.content.decode()
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return re.findall(r'<a href="/t/[\w-]+/customers/\d+/">([^<]+)</a>', body)


def _names(world: World, response) -> list[str]:
    return [htmllib.unescape(n) for n in _rows(response)]


# --- Search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["ostergard", "østergård", "ÖSTERGÅRD", "Östergård", "oster bygg"]
)
def test_search_with_and_without_accents(world, query):
    response = world.p.client(world.p.bob).get(URL, {"q": query})
    assert response.status_code == 200
    assert _names(world, response) == ["Östergård Bygg AB"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("+46 70 123 45 67", "Östergård Bygg AB"),
        ("0701234567", "Östergård Bygg AB"),
        ("070-1234567", "Östergård Bygg AB"),
        ("556036-0793", "Östergård Bygg AB"),
        ("5560360793", "Östergård Bygg AB"),
        ("kontakt@ahlens.se", "Åhléns Handel"),
        ("ahlens", "Åhléns Handel"),
        ("1001", "Sørensen & Søn ApS"),
        ("sorensen son", "Sørensen & Søn ApS"),
    ],
)
def test_search_matches_phone_org_number_email_number(world, query, expected):
    response = world.p.client(world.p.bob).get(URL, {"q": query})
    assert _names(world, response) == [expected]


def test_a_search_cut_off_at_its_limit_says_so(world, monkeypatch):
    from customers import selectors

    client = world.p.client(world.p.bob)
    assert 'id="search-capped"' not in client.get(URL, {"q": "ab"}).content.decode()
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 1)
    monkeypatch.setattr("customers.views.lists.SEARCH_LIMIT", 1)
    html = client.get(URL, {"q": "ab"}).content.decode()
    assert 'id="search-capped"' in html and "first 1 matches" in html
    assert 'id="search-capped"' not in client.get(URL).content.decode()  # no search, no cap


def test_page_has_an_autofocused_labelled_search_box_and_htmx(world):
    html = world.p.client(world.p.bob).get(URL).content.decode()
    box = re.search(r"<input[^>]*name=\"q\"[^>]*>", html).group(0)
    assert 'type="search"' in box and "autofocus" in box
    assert f'hx-get="{A}/customers/"' in box
    assert 'hx-trigger="keyup changed delay:300ms, search"' in box
    assert 'hx-push-url="true"' in box
    assert '<label for="id_q">' in html
    assert 'role="search"' in html
    assert '<th scope="col"' in html
    assert 'aria-sort="ascending"' in html  # name, the default order


def test_htmx_gets_only_the_results(world):
    client = world.p.client(world.p.bob)
    response = client.get(URL, {"q": "oster"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'type="search"' not in html
    assert _names(world, response) == ["Östergård Bygg AB"]
    assert "HX-Request" in response["Vary"]
    # The new count goes out of band into the page's live region, for screen readers.
    assert '<div id="result-live" hx-swap-oob="innerHTML">1 customer</div>' in html
    # A back-button history restore gets the whole page.
    full = client.get(
        URL, {"q": "oster"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in full.content.decode()
    assert "hx-swap-oob" not in full.content.decode()


# --- Sort, tabs, filters, pages ----------------------------------------------------------


def test_sort_by_number_name_and_last_activity(world):
    client = world.p.client(world.p.bob)
    names = {
        # Swedish order: S < Å < Ö (the database's collation agrees for these names).
        "": ["Sørensen & Søn ApS", "Åhléns Handel", "Östergård Bygg AB"],
        "-name": ["Östergård Bygg AB", "Åhléns Handel", "Sørensen & Søn ApS"],
        "number": ["Sørensen & Søn ApS", "Åhléns Handel", "Östergård Bygg AB"],
        "-number": ["Östergård Bygg AB", "Åhléns Handel", "Sørensen & Søn ApS"],
        "-last_activity": ["Östergård Bygg AB", "Åhléns Handel", "Sørensen & Søn ApS"],
        "last_activity": ["Sørensen & Søn ApS", "Åhléns Handel", "Östergård Bygg AB"],
    }
    for sort, expected in names.items():
        response = client.get(URL, {"sort": sort} if sort else {})
        assert _names(world, response) == expected, sort


def test_never_active_customers_count_as_oldest(world):
    with tenant_context(world.p.tenant_a):
        make_customer(name="Ny Kund", number="1005")
    client = world.p.client(world.p.bob)
    newest_first = _names(world, client.get(URL, {"sort": "-last_activity"}))
    oldest_first = _names(world, client.get(URL, {"sort": "last_activity"}))
    assert newest_first[-1] == "Ny Kund" and oldest_first[0] == "Ny Kund"
    assert newest_first == list(reversed(oldest_first))


def test_sort_links_keep_the_filters_and_mark_the_sorted_column(world):
    response = world.p.client(world.p.bob).get(
        URL, {"q": "a", "district": world.norr.pk, "sort": "-number", "page": "1"}
    )
    html = response.content.decode()
    number_th = re.search(r'<th scope="col" aria-sort="descending"><a href="([^"]+)">', html)
    assert number_th, "the sorted column has aria-sort"
    link = number_th.group(1).replace("&amp;", "&")
    assert f"district={world.norr.pk}" in link and "q=a" in link and "sort=number" in link
    assert "page=" not in link


def test_inactive_customers_have_their_own_tab(world):
    client = world.p.client(world.p.bob)
    assert "Gamla Bolaget" not in _names(world, client.get(URL))
    response = client.get(URL, {"status": "inactive"})
    assert _names(world, response) == ["Gamla Bolaget"]
    assert re.search(
        rf'href="{A}/customers/\?status=inactive" aria-current="page"', response.content.decode()
    )


def test_anonymized_customers_are_in_the_inactive_tab(world):
    with tenant_context(world.p.tenant_a):
        Customer.objects.filter(pk=world.ahl.pk).update(status="anonymized")
    client = world.p.client(world.p.bob)
    assert "Åhléns Handel" not in _names(world, client.get(URL))
    response = client.get(URL, {"status": "inactive", "q": "1002"})
    assert _names(world, response) == ["Åhléns Handel"]
    assert "Anonymized" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("district", "norr", ["Östergård Bygg AB"]),
        ("district", "syd", ["Sørensen & Søn ApS"]),
        ("group", "vip", ["Östergård Bygg AB"]),
        ("business_area", "bygg", ["Östergård Bygg AB"]),
    ],
)
def test_filters_by_reference_entries(world, field, value, expected):
    response = world.p.client(world.p.bob).get(URL, {field: getattr(world, value).pk})
    assert _names(world, response) == expected


def test_last_activity_before_includes_customers_without_activity(world):
    with tenant_context(world.p.tenant_a):
        make_customer(name="Ny Kund", number="1005")
    client = world.p.client(world.p.bob)
    response = client.get(URL, {"last_activity_before": "2023-09-01"})
    assert _names(world, response) == ["Ny Kund", "Sørensen & Søn ApS", "Åhléns Handel"]
    response = client.get(URL, {"last_activity_before": "2023-08-15"})
    assert _names(world, response) == ["Ny Kund", "Sørensen & Søn ApS"]


@pytest.mark.parametrize(
    ("params", "field_label"),
    [
        ({"last_activity_before": "abc"}, "Last activity before"),
        ({"last_activity_before": "2024-02-30"}, "Last activity before"),
        ({"district": "x"}, "District"),
        ({"district": "99999999999999999999999"}, "District"),
        ({"group": "-1"}, "Customer group"),
        ({"business_area": "1.5"}, "Business area"),
        ({"status": "anonymized"}, "Status"),
        ({"sort": "tenant_id"}, "Sort order"),
        ({"q": "x" * 201}, "Search"),
    ],
)
def test_bad_filter_input_is_a_field_error_never_a_500(world, params, field_label):
    client = world.p.client(world.p.bob)
    response = client.get(URL, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and field_label in html
    assert _rows(response) == []
    partial = client.get(URL, params, HTTP_HX_REQUEST="true").content.decode()
    assert "Correct the filters" in partial and field_label in partial


def test_another_tenants_district_is_not_a_choice(world):
    with tenant_context(world.p.tenant_b):
        b_district = ReferenceEntryFactory(register="district", code="V", name="Vest")
    response = world.p.client(world.p.bob).get(URL, {"district": b_district.pk})
    assert "Select a valid choice" in response.content.decode()
    assert _rows(response) == []


def test_bad_page_number_shows_a_page(world):
    client = world.p.client(world.p.bob)
    for page in ("abc", "-1", "999", "1e9"):
        assert client.get(URL, {"page": page}).status_code == 200


def test_pagination_50_per_page_keeps_filters(world):
    with tenant_context(world.p.tenant_a):
        for i in range(52):
            make_customer(name=f"Kund {i:03}", number=f"K{i:03}", district=world.norr)
    client = world.p.client(world.p.bob)
    first = client.get(URL, {"district": world.norr.pk})
    assert len(_rows(first)) == 50
    html = first.content.decode()
    assert "53 customers" in html and "Page 1 of 2" in html
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert f"district={world.norr.pk}" in next_link and "page=2" in next_link
    second = client.get(next_link)
    assert len(_rows(second)) == 3


# --- Who sees what -----------------------------------------------------------------------


def test_employee_is_refused_and_anonymous_must_log_in(world):
    for url in (URL, "/customers/selection/", "/customers/export/csv/"):
        assert world.p.client(world.p.erik).get(url).status_code == 403
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_nav_link_only_for_registry_viewers(world):
    assert (
        f'href="{A}/customers/">Customers</a>'
        in world.p.client(world.p.bob).get("/").content.decode()
    )
    assert f'href="{A}/customers/"' not in world.p.client(world.p.erik).get("/").content.decode()


def test_tenant_b_never_sees_tenant_a(world):
    client = world.p.client(world.p.charlie)
    assert _names(world, client.get(URL)) == ["Fjordvik Kunde AS"]
    assert _rows(client.get(URL, {"q": "ostergard"})) == []
    assert _rows(client.get(URL, {"q": "1003"})) == []
    assert _rows(client.get(URL, {"status": "inactive"})) == []
    csv_text = client.get("/customers/export/csv/").getvalue().decode("utf-8-sig")
    assert "Fjordvik" in csv_text and "Östergård" not in csv_text and "Gamla" not in csv_text
    sheet = _xlsx(client.get("/customers/export/xlsx/"))
    assert [row[1] for row in sheet[1:]] == ["Fjordvik Kunde AS"]
    printed = client.get(URL, {"print": "1"}).content.decode()
    assert "Fjordvik" in printed and "Östergård" not in printed


# --- Own selection -----------------------------------------------------------------------


def test_add_to_selection_by_numbers(world):
    client = world.p.client(world.p.bob)
    response = client.post("/customers/selection/", {"numbers": "1001, 1003"})
    assert response.status_code == 302
    page = client.get("/customers/selection/")
    assert _names(world, page) == ["Sørensen & Søn ApS", "Östergård Bygg AB"]
    assert "2 customers were added to your selection." in page.content.decode()
    # Already present: no duplicate, and the user is told.
    response = client.post("/customers/selection/", {"numbers": "1003"}, follow=True)
    assert "1 customer was already in your selection." in response.content.decode()
    with tenant_context(world.p.tenant_a):
        assert SelectionEntry.objects.filter(user=world.p.bob).count() == 2


def test_unknown_numbers_are_named_in_a_field_error(world):
    client = world.p.client(world.p.bob)
    response = client.post("/customers/selection/", {"numbers": "1002 7777 B-1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "No customers have the numbers 7777, B-1." in html
    assert 'id="id_numbers_error"' in html
    assert 'value="7777 B-1"' in html  # only the wrong ones stay in the box
    assert "1 customer was added to your selection." in html
    with tenant_context(world.p.tenant_a):
        assert [c.number for c in selection_of(world.p.bob)] == ["1002"]


def test_empty_number_box_is_a_field_error(world):
    response = world.p.client(world.p.bob).post("/customers/selection/", {"numbers": " , "})
    assert response.status_code == 200
    assert "Enter at least one customer number." in response.content.decode()


def test_tenant_b_adding_an_a_number_gets_unknown(world):
    client = world.p.client(world.p.charlie)
    response = client.post("/customers/selection/", {"numbers": "1003"})
    assert "No customer has the number 1003." in response.content.decode()
    response = client.post("/customers/selection/add/", {"customer": [world.oster.pk]})
    assert response.status_code == 302
    with tenant_context(world.p.tenant_b):
        assert SelectionEntry.objects.count() == 0
    assert "no longer exists" in client.get(URL).content.decode()


def test_add_ticked_rows_from_the_list(world):
    client = world.p.client(world.p.bob)
    html = client.get(URL).content.decode()
    assert f'action="{A}/customers/selection/add/"' in html
    nxt = "/customers/?district=1&page=1"
    response = client.post(
        "/customers/selection/add/",
        {"customer": [world.oster.pk, world.ahl.pk], "next": nxt},
    )
    assert response.status_code == 302 and response["Location"] == nxt
    with tenant_context(world.p.tenant_a):
        assert {c.pk for c in selection_of(world.p.bob)} == {world.oster.pk, world.ahl.pk}
    # Rows already in the selection show a mark instead of a box.
    html = client.get(URL).content.decode()
    assert f'id="pick-{world.soren.pk}"' in html and f'id="pick-{world.oster.pk}"' not in html
    # Nothing ticked, or a foreign "next": a message and back to the list.
    response = client.post("/customers/selection/add/", {"next": "https://evil.example/"})
    assert response["Location"] == f"{A}/customers/"


def test_remove_several_and_clear_with_confirmation(world):
    p = world.p
    with tenant_context(p.tenant_a):
        selection_add(user=p.bob, customers=[world.oster, world.soren, world.ahl])
    client = p.client(p.bob)
    response = client.post(
        "/customers/selection/remove/", {"customer": [world.oster.pk, world.ahl.pk]}
    )
    assert response.status_code == 302
    assert _names(world, client.get("/customers/selection/")) == ["Sørensen & Søn ApS"]
    # Nothing ticked is an error shown above the table; nothing changes.
    response = client.post("/customers/selection/remove/", {})
    assert response.status_code == 200
    assert "Tick at least one customer." in response.content.decode()
    # Clearing asks first; GET changes nothing.
    confirm = client.get("/customers/selection/clear/")
    assert "Remove the 1 customer from your selection?" in confirm.content.decode()
    with tenant_context(p.tenant_a):
        assert selection_of(p.bob).count() == 1
    client.post("/customers/selection/clear/")
    with tenant_context(p.tenant_a):
        assert selection_of(p.bob).count() == 0
        assert Customer.objects.count() == 4  # the customers themselves stay


def test_selection_page_is_per_user(world):
    p = world.p
    with tenant_context(p.tenant_a):
        selection_add(user=p.alice, customers=[world.oster])
    assert _rows(p.client(p.bob).get("/customers/selection/")) == []
    assert _names(world, p.client(p.alice).get("/customers/selection/")) == ["Östergård Bygg AB"]
    # Bob cannot remove Alice's rows: they are not in his selection.
    response = p.client(p.bob).post("/customers/selection/remove/", {"customer": [world.oster.pk]})
    assert response.status_code == 200
    with tenant_context(p.tenant_a):
        assert selection_of(p.alice).count() == 1


# --- Saved lists -------------------------------------------------------------------------


def test_save_open_and_delete_a_list(world):
    p = world.p
    client = p.client(p.bob)
    form = {
        "q": "bygg",
        "district": str(world.norr.pk),
        "sort": "-number",
        "list-name": "Norr",
        "list-shared": "on",
    }
    response = client.post("/customers/lists/", form)
    assert response.status_code == 302
    with tenant_context(p.tenant_a):
        saved = SavedList.objects.get(owner=p.bob)
    assert saved.shared and saved.filters == {"district": str(world.norr.pk), "sort": "-number"}
    assert saved.search == "bygg"
    opened = client.get(response["Location"])
    assert opened.status_code == 302
    path, _sep, query = opened["Location"].partition("?")
    assert path == f"{A}/customers/"
    assert QueryDict(query).dict() == {
        "district": str(world.norr.pk),
        "sort": "-number",
        "q": "bygg",
    }
    # The menu of lists offers it; deleting it leaves the list page.
    assert "Norr" in client.get(URL).content.decode()
    response = client.post(f"/customers/lists/{saved.pk}/delete/", {"next": "/customers/"})
    assert response.status_code == 302
    with tenant_context(p.tenant_a):
        assert not SavedList.objects.exists()


def test_a_saved_search_reopens_with_the_same_customers(world):
    """Issue 14.5: a saved "Berg" list reopened with every customer, not the Berg ones."""
    p = world.p
    client = p.client(p.bob)
    searched = client.get(URL, {"q": "sørensen"})
    expected = [c.number for c in searched.context["page"].object_list]
    assert expected == ["1001"]
    response = client.post("/customers/lists/", {"q": "sørensen", "list-name": "Sørensen"})
    assert response.status_code == 302
    reopened = client.get(response["Location"], follow=True)
    assert [c.number for c in reopened.context["page"].object_list] == expected


def test_duplicate_list_name_is_shown_at_the_field(world):
    p = world.p
    client = p.client(p.bob)
    client.post("/customers/lists/", {"list-name": "Norr"})
    response = client.post("/customers/lists/", {"list-name": "Norr", "district": world.norr.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "You already have a list with this name." in html
    assert 'id="id_list-name_error"' in html
    assert '<details class="save-list" open>' in html
    assert _names(world, response) == ["Östergård Bygg AB"]  # the filters still apply
    with tenant_context(p.tenant_a):
        assert SavedList.objects.count() == 1


def test_list_menu_shows_own_and_shared_but_not_others_own(world):
    p = world.p
    with tenant_context(p.tenant_a):
        alice_own = saved_list_save(user=p.alice, name="Alice egen", filters={})
        alice_shared = saved_list_save(user=p.alice, name="Alice delad", shared=True, filters={})
        saved_list_save(user=p.bob, name="Bob egen", filters={})
    client = p.client(p.bob)
    html = client.get(URL).content.decode()
    assert "Bob egen" in html and "Alice delad" in html and "Alice egen" not in html
    assert "shared by alice" in html
    assert client.get(f"/customers/lists/{alice_own.pk}/").status_code == 404
    assert client.get(f"/customers/lists/{alice_shared.pk}/").status_code == 302
    assert client.post(f"/customers/lists/{alice_own.pk}/delete/").status_code == 404
    assert client.post(f"/customers/lists/{alice_shared.pk}/delete/").status_code == 403
    assert p.client(p.charlie).get(f"/customers/lists/{alice_shared.pk}/").status_code == 404
    with tenant_context(p.tenant_a):
        assert SavedList.objects.count() == 3


def test_list_with_a_stale_filter_shows_the_error(world):
    p = world.p
    with tenant_context(p.tenant_a):
        saved = saved_list_save(user=p.bob, name="Gammal", filters={"district": "999999"})
    response = p.client(p.bob).get(f"/customers/lists/{saved.pk}/", follow=True)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


# --- Print and export --------------------------------------------------------------------


def test_print_view_is_a_clean_page_with_the_result(world):
    response = world.p.client(world.p.bob).get(URL, {"print": "1", "district": world.norr.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="print-page"' in html and "<nav" not in html
    assert "Östergård Bygg AB" in html and "Sørensen" not in html
    assert "Storgatan 1, 211 34" in html and "Malmö" in html
    assert "N Norr" in html  # the filter in use is printed
    assert "<script>" not in html and "style=" not in html


def test_print_with_bad_filters_shows_the_list_with_errors(world):
    response = world.p.client(world.p.bob).get(URL, {"print": "1", "district": "x"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def _csv(response) -> list[list[str]]:
    content = response.getvalue()  # a streamed response (issue 11)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _xlsx(response) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    return list(workbook.active.iter_rows(values_only=True))


HEADER = [
    "Customer number",
    "Name",
    "Organisation number",
    "Email",
    "Phone",
    "Mobile",
    "Head office address",
    "City",
    "Status",
    "Last activity",
]


def test_csv_export_of_the_current_result(world):
    client = world.p.client(world.p.bob)
    response = client.get("/customers/export/csv/", {"sort": "number"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    rows = _csv(response)
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["1001", "1002", "1003"]
    oster = rows[3]
    assert oster == [
        "1003",
        "Östergård Bygg AB",
        "556036-0793",
        "info@ostergard.se",
        "070-123 45 67",
        "",
        "Storgatan 1, 211 34",
        "Malmö",
        "Active",
        "2024-05-02",
    ]
    filtered = _csv(client.get("/customers/export/csv/", {"status": "inactive"}))
    assert [r[1] for r in filtered[1:]] == ["Gamla Bolaget"]
    with tenant_context(world.p.tenant_a):
        event = AuditEvent.objects.filter(action="customers.exported").latest("seq")
    assert event.data == {"format": "csv", "source": "list", "count": 1}


def test_xlsx_export_opens_in_openpyxl(world):
    response = world.p.client(world.p.bob).get("/customers/export/xlsx/", {"q": "oster"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _xlsx(response)
    assert list(rows[0]) == HEADER
    assert rows[1][:8] == (
        "1003",
        "Östergård Bygg AB",
        "556036-0793",
        "info@ostergard.se",
        "070-123 45 67",
        None,
        "Storgatan 1, 211 34",
        "Malmö",
    )
    assert rows[1][9].date().isoformat() == "2024-05-02"
    assert len(rows) == 2


def test_exports_defuse_formulas(world):
    with tenant_context(world.p.tenant_a):
        evil = make_customer(
            name='=HYPERLINK("http://evil","x")',
            number="@SUM(1)",
            email="",
        )
        # A number typed before numbers were checked can hold a formula.
        Customer.objects.filter(pk=evil.pk).update(phone="+1+1")
        address_add(customer=evil, actor=SYSTEM, line1="-2+3", city="\x01=cmd|' /C calc'!A0")
    client = world.p.client(world.p.bob)
    row = next(r for r in _csv(client.get("/customers/export/csv/")) if "HYPERLINK" in r[1])
    assert row[0] == "'@SUM(1)"
    assert row[1] == '\'=HYPERLINK("http://evil","x")'
    assert row[4] == "'+1+1"
    assert row[6] == "'-2+3"
    assert row[7] == "'=cmd|' /C calc'!A0"  # the control character is gone, the quote is not
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/customers/export/xlsx/").getvalue()))
    sheet = workbook.active
    cells = next(r for r in sheet.iter_rows() if "HYPERLINK" in str(r[1].value))
    assert all(c.data_type != "f" for c in cells)
    assert cells[1].value == '\'=HYPERLINK("http://evil","x")'
    assert cells[7].value == "'=cmd|' /C calc'!A0"


def test_a_big_export_becomes_a_job(world, settings):
    """More customers than the inline threshold: an export job and its progress page
    (issue 11, tests/reports/test_export_jobs.py); up to it: the file at once."""
    settings.REPORTS_EXPORT_INLINE_MAX_ROWS = 2
    client = world.p.client(world.p.bob)
    response = client.get("/customers/export/xlsx/", {"sort": "number"})
    assert response.status_code == 302 and "/reports/exports/" in response["Location"]
    assert client.get("/customers/export/csv/", {"status": "inactive"}).status_code == 200


def test_export_with_bad_filters_or_format(world):
    client = world.p.client(world.p.bob)
    response = client.get("/customers/export/csv/", {"last_activity_before": "abc"})
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()
    assert client.get("/customers/export/pdf/").status_code == 404


def test_selection_print_and_export(world):
    p = world.p
    with tenant_context(p.tenant_a):
        selection_add(user=p.bob, customers=[world.gone, world.soren])
    client = p.client(p.bob)
    printed = client.get("/customers/selection/", {"print": "1"}).content.decode()
    assert "Gamla Bolaget" in printed and "Sørensen" in printed and "Östergård" not in printed
    rows = _csv(client.get("/customers/selection/export/csv/"))
    assert [r[1] for r in rows[1:]] == ["Gamla Bolaget", "Sørensen & Søn ApS"]
    assert [r[8] for r in rows[1:]] == ["Inactive", "Active"]
    sheet = _xlsx(client.get("/customers/selection/export/xlsx/"))
    assert [r[1] for r in sheet[1:]] == ["Gamla Bolaget", "Sørensen & Søn ApS"]
    # Another user's export holds only their own (empty) selection.
    assert len(_csv(p.client(p.alice).get("/customers/selection/export/csv/"))) == 1
