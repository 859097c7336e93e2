"""The dashboard, the home page (issue 11 item 6): the count behind every bar against a small
world with each consent state and activity age, the links to the lists behind the charts,
what each role sees, tenant isolation, and the texts in every language."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation.template import templatize

from anonymization import eligibility
from anonymization.models_runs import AnonymizationRun
from anonymization.selectors import retention_policy
from audit.actors import Actor
from consent.models import ConsentBatch, ConsentRequest
from consent.services import consent_record, consent_request_create, consent_terms_publish
from customers.models import Customer, CustomerStatus
from reports import dashboard, dashboard_snapshot
from reports.models import DashboardSnapshot
from reports.services import report_export_record
from tenancy.context import tenant_context
from tests.factories import make_customer

SYSTEM = Actor.system("test")
LANGUAGES = ("sv", "da", "nb")


@dataclass
class World:
    p: object
    names: dict[str, str]  # role in the world -> customer name
    eligible_on: dt.date


def _activity(customer: Customer, when: dt.datetime | None) -> None:
    Customer.objects.filter(pk=customer.pk).update(last_activity_at=when)


def _grant(customer: Customer, language: str = "sv") -> None:
    consent_record(
        customer=customer,
        decision="granted",
        method="manual",
        how="in_person",
        actor=SYSTEM,
        language=language,
        terms_version=1,
    )


@pytest.fixture
def world(personas) -> World:
    p = personas
    now = timezone.now()
    names = {}
    with tenant_context(p.tenant_a):
        consent_terms_publish(language="sv", text="Vi sparar dina uppgifter.", actor=SYSTEM)

        def customer(role: str, name: str, **fields) -> Customer:
            names[role] = name
            c = make_customer(name=name, email=f"{role}@example.se", **fields)
            _activity(c, None)
            return c

        _grant(customer("granted", "Östergård Bygg AB"))
        _grant(customer("granted2", "Åhléns Handel"))
        consent_request_create(
            customer=customer("requested", "Sørensen & Søn ApS"),
            channel="email",
            language="sv",
            actor=SYSTEM,
        )
        # Asked, never answered, the link now past its expiry: reads "expired".
        lapsed, _token = consent_request_create(
            customer=customer("lapsed", "Dahl Måleri"), channel="email", language="sv", actor=SYSTEM
        )
        ConsentRequest.objects.filter(pk=lapsed.pk).update(expires_at=now - dt.timedelta(days=1))
        declined = customer("declined", "Berg Transport")
        consent_record(customer=declined, decision="declined", method="manual", actor=SYSTEM)
        withdrawn = customer("withdrawn", "Holm Plåt")
        _grant(withdrawn)
        consent_record(customer=withdrawn, decision="withdrawn", method="manual", actor=SYSTEM)
        # Inactive: in no chart (the charts count the list's default tab, the active).
        gone = customer("inactive", "Lindqvist VVS")
        _grant(gone)
        Customer.objects.filter(pk=gone.pk).update(status=CustomerStatus.INACTIVE)
        # One per activity bucket (never asked for consent: "none").
        for months, role, name in [
            (1, "m1", "Karlsson El"),
            (4, "m4", "Nilsson Data"),
            (8, "m8", "Eriksson Trä"),
            (18, "m18", "Pedersen Maskin"),
            (30, "m30", "Haugen Handel"),
            (50, "m50", "Virtanen Bygg"),
        ]:
            c = customer(role, name)
            _activity(c, now - dt.timedelta(days=round(months * 30.4)))
        # Its retention period ends within the next 12 months: in the forecast.
        years = retention_policy().customer_years
        old = customer("old", "Møller Måleri")
        _activity(old, dt.datetime(now.year - years, 1, 15, 12, tzinfo=dt.UTC))
        eligible_on = eligibility.eligibility_of(old).eligible_on
        AnonymizationRun.objects.create(
            source="page", actor_type="user", categories=[], total=3, anonymized=2
        )
        ConsentBatch.objects.create(
            channel="email", source="search", actor_type="user", total=5, sent=4
        )
        report_export_record(
            actor=SYSTEM, report="phones", fmt="csv", count=7, complete=True, filters=[]
        )
    with tenant_context(p.tenant_b):  # never counted in A
        consent_terms_publish(language="nb", text="Vi lagrer opplysningene dine.", actor=SYSTEM)
        for n in range(3):
            c = make_customer(name=f"Fjordvik Kunde {n} AS", country="NO")
            if n == 0:
                _grant(c, "nb")
            _activity(c, now - dt.timedelta(days=10))
    return World(p=p, names=names, eligible_on=eligible_on)


def _home(world, user, language: str | None = None):
    client = world.p.client(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get("/")
    assert response.status_code == 200
    return client, response.content.decode()


def _table(body: str, table_id: str) -> list[tuple[str, str, int]]:
    """(label, link, count) of each row of a chart's "Show as table"."""
    start = body.index(f'id="{table_id}"')
    table = body[start : body.index("</table>", start)]
    rows = re.findall(r'<tr><td><a href="([^"]+)">(.*?)</a></td><td[^>]*>(\d+)</td></tr>', table)
    return [(unescape(label), unescape(href), int(count)) for href, label, count in rows]


# --- the counts ---------------------------------------------------------------------------


def test_consent_coverage_counts_every_state(world):
    with tenant_context(world.p.tenant_a):
        counts = dashboard.consent_coverage()
    # 6 customers with a state, 7 never asked (6 activity buckets and the old one).
    assert counts == {
        "granted": 2,
        "requested": 1,
        "none": 7,
        "declined": 1,
        "withdrawn": 1,
        "expired": 1,
    }


def test_consent_counts_match_the_list_filter(world):
    """Each count is the number of customers its link lists (the list's default tab)."""
    from customers.selectors import customer_list

    with tenant_context(world.p.tenant_a):
        counts = dashboard.consent_coverage()
        for status, count in counts.items():
            assert customer_list(consent=status).count() == count, status


def test_activity_buckets(world):
    with tenant_context(world.p.tenant_a):
        buckets = {b.key: b.count for b in dashboard.activity_buckets()}
    assert buckets == {
        "0-3": 1,
        "3-6": 1,
        "6-12": 1,
        "12-24": 1,
        "24-36": 1,
        "36-": 2,  # 50 months and the old one
        "never": 6,  # the consent customers (the inactive one is not counted)
    }


def test_forecast_is_the_anonymization_pages(world):
    with tenant_context(world.p.tenant_a):
        today = eligibility.tenant_today()
        forecast = dashboard.anonymization_forecast()
    first = today.replace(day=1)
    assert len(forecast) == 12
    assert forecast[0].month == first
    counts = {m.month: m.count for m in forecast}
    assert world.eligible_on > today
    assert counts[world.eligible_on.replace(day=1)] == 1
    assert sum(counts.values()) == 1


def test_the_page_shows_the_counts_as_tables(world):
    _client, body = _home(world, world.p.alice)
    consent = {label: count for label, _href, count in _table(body, "table-consent")}
    assert consent == {
        "Consent approved": 2,
        "Consent requested": 1,
        "No consent": 7,
        "Consent declined": 1,
        "Consent withdrawn": 1,
        "Consent expired": 1,
    }
    activity = [count for _label, _href, count in _table(body, "table-activity")]
    assert activity == [1, 1, 1, 1, 1, 2, 6]
    forecast = _table(body, "table-forecast")
    assert len(forecast) == 12 and sum(c for _l, _h, c in forecast) == 1
    # Every chart is an SVG drawn on the server, with a link per bar.
    for chart in ("chart-consent", "chart-activity", "chart-forecast"):
        assert f'<svg class="chart dashboard-chart" id="{chart}"' in body
    svg = body[
        body.index('id="chart-activity"') : body.index("</svg>", body.index("chart-activity"))
    ]
    assert svg.count('class="chart-bar"') == 7
    assert svg.count("<a ") == 7 and svg.count("<title>") == 7
    assert "style=" not in svg  # the CSP allows no inline style


# --- the links ----------------------------------------------------------------------------


def test_consent_links_open_the_filtered_list(world):
    client, body = _home(world, world.p.bob)
    rows = _table(body, "table-consent")
    href = dict((label, href) for label, href, _c in rows)["Consent approved"]
    assert href.endswith("/customers/?consent=granted")
    assert f'href="{href}"' in body[: body.index('id="table-consent"')]  # the chart links too
    listed = client.get(href).content.decode()
    assert world.names["granted"] in listed and world.names["granted2"] in listed
    assert world.names["requested"] not in listed and world.names["inactive"] not in listed


def test_activity_links_carry_the_last_activity_filter(world):
    client, body = _home(world, world.p.bob)
    rows = _table(body, "table-activity")
    with tenant_context(world.p.tenant_a):
        buckets = dashboard.activity_buckets()
    three_to_six = rows[1][1]
    assert f"last_activity_before={buckets[1].before.isoformat()}" in three_to_six
    assert "sort=-last_activity" in three_to_six
    listed = client.get(three_to_six).content.decode()
    assert world.names["m4"] in listed and world.names["m50"] in listed  # quiet since then
    assert world.names["m1"] not in listed  # active within the last 3 months
    never = rows[-1][1]
    assert never.endswith("/customers/?sort=last_activity")


def test_forecast_and_recent_links(world):
    _client, body = _home(world, world.p.alice)
    assert all(href.endswith("/anonymization/") for _l, href, _c in _table(body, "table-forecast"))
    with tenant_context(world.p.tenant_a):
        run = AnonymizationRun.objects.get()
        batch = ConsentBatch.objects.get()
    assert f"/anonymization/runs/{run.pk}/" in body
    assert f"/consent/batches/{batch.pk}/" in body
    assert "/audit/?action=reports.exported" in body
    exports = body[body.index('id="recent-exports"') :]
    assert "Phone list (CSV)" in exports and "7 rows" in exports


# --- roles and tenants --------------------------------------------------------------------


SECTIONS = {
    "consent": 'id="dashboard-consent"',
    "activity": 'id="dashboard-activity"',
    "forecast": 'id="dashboard-forecast"',
    "runs": 'id="recent-runs"',
    "batches": 'id="recent-batches"',
    "exports": 'id="recent-exports"',
}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("alice", {"consent", "activity", "forecast", "runs", "batches", "exports"}),
        ("bea", {"consent", "activity", "forecast", "runs", "batches", "exports"}),
        ("bob", {"consent", "activity", "batches"}),
        ("erik", set()),
    ],
)
def test_each_role_sees_what_it_may_open(world, who, sees):
    _client, body = _home(world, getattr(world.p, who))
    shown = {name for name, marker in SECTIONS.items() if marker in body}
    assert shown == sees


def test_another_tenant_sees_only_its_own(world):
    _client, body = _home(world, world.p.charlie)
    consent = {label: count for label, _href, count in _table(body, "table-consent")}
    assert consent["Consent approved"] == 1 and sum(consent.values()) == 3
    activity = [count for _label, _href, count in _table(body, "table-activity")]
    assert activity == [3, 0, 0, 0, 0, 0, 0]
    assert sum(c for _l, _h, c in _table(body, "table-forecast")) == 0
    for name in world.names.values():
        assert name not in body
    # B has no runs and no exports, A's are not shown.
    assert 'id="recent-runs"' not in body and "No anonymization runs yet." in body
    assert 'id="recent-exports"' not in body and "No report exports yet." in body


def test_a_user_without_a_company_gets_no_dashboard(db):
    from django.test import Client

    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(username="nobody"))
    response = client.get("/", follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="dashboard"' not in body
    assert "does not belong to any company" in body


# --- languages ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_renders_in_every_language(world, language):
    _client, body = _home(world, world.p.alice, language)
    assert f'<html lang="{language}">' in body
    assert 'id="chart-consent"' in body and 'id="chart-forecast"' in body


MINE = [
    "reports/dashboard.py",
    "reports/charts.py",
    "reports/views_dashboard.py",
    "templates/home.html",
    "templates/reports/dashboard.html",
    "templates/reports/_chart_table.html",
    "templates/reports/_as_of.html",
]


def _msgids() -> set[str]:
    root = Path(settings.BASE_DIR)
    found = set()
    for name in MINE:
        text = (root / name).read_text()
        if name.endswith(".html"):
            # Django's own template-to-gettext conversion, as makemessages does it.
            code = templatize(text, origin=name)
            for m in re.finditer(r"(?:n?gettext)\(\s*u?'((?:[^'\\]|\\.)*)'", code):
                found.add(m.group(1).encode().decode("unicode_escape").encode("latin-1").decode())
        else:
            found |= set(re.findall(r'\b_\(\s*"((?:[^"\\]|\\.)*)"\s*\)', text))
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_dashboard_text_has_a_translation(language):
    """Until the fragments are merged (`make messages`) they hold the texts; then django.po."""
    root = Path(settings.LOCALE_PATHS[0])
    translated = {
        entry.msgid
        for path in (
            root / language / "LC_MESSAGES" / "django.po",
            root / "fragments" / f"dashboard.{language}.po",
        )
        if path.exists()
        for entry in polib.pofile(str(path)).translated_entries()
    }
    msgids = _msgids()
    assert len(msgids) > 25
    assert sorted(msgids - translated) == []


def _age(tenant, seconds: int) -> None:
    """Make the tenant's snapshot ``seconds`` old."""
    with tenant_context(tenant):
        DashboardSnapshot.objects.update(computed_at=timezone.now() - dt.timedelta(seconds=seconds))


def _never(body: str) -> int:
    return [c for _l, _h, c in _table(body, "table-activity")][-1]


def test_customer_charts_come_from_a_snapshot_per_tenant(world):
    """The first view counts inline and keeps the numbers; a fresh snapshot is shown as is."""
    with tenant_context(world.p.tenant_a):
        assert not DashboardSnapshot.objects.exists()
    _client, body = _home(world, world.p.alice)
    assert "Figures as of" in body and "being counted" not in body
    with tenant_context(world.p.tenant_a):
        assert DashboardSnapshot.objects.count() == 1
        _activity(make_customer(name="Ny Kund AB"), None)
        assert dashboard.activity_buckets()[-1].count == 7  # the selector reads afresh
    _client, again = _home(world, world.p.alice)
    assert _never(again) == 6  # the page: the snapshot
    # In the chart's order, the good news first (the stored JSON keeps no key order).
    assert [label for label, _h, _c in _table(again, "table-consent")] == [
        "Consent approved",
        "Consent requested",
        "No consent",
        "Consent declined",
        "Consent withdrawn",
        "Consent expired",
    ]
    # Another company's page is not served from A's numbers.
    _client, other = _home(world, world.p.charlie)
    assert [c for _l, _h, c in _table(other, "table-activity")] == [3, 0, 0, 0, 0, 0, 0]


def test_a_stale_snapshot_is_shown_and_one_refresh_asked_for(world, monkeypatch):
    from reports.tasks import dashboard_refresh

    sent = []
    monkeypatch.setattr(dashboard_refresh, "apply_async", lambda **kw: sent.append(kw))
    _home(world, world.p.alice)
    with tenant_context(world.p.tenant_a):
        _activity(make_customer(name="Ny Kund AB"), None)
    _age(world.p.tenant_a, dashboard_snapshot.REFRESH_AFTER_SECONDS + 5)
    _client, body = _home(world, world.p.alice)
    assert _never(body) == 6 and "newer ones are being counted" in body
    _home(world, world.p.bob)  # another view meanwhile: no second task
    assert [kw["kwargs"] for kw in sent] == [{"tenant_id": world.p.tenant_a.pk}]
    # What the task does; the next view shows the new count, and no refresh is pending.
    with tenant_context(world.p.tenant_a):
        dashboard_refresh.run()
        assert DashboardSnapshot.objects.get().refresh_asked_at is None
    _client, body = _home(world, world.p.alice)
    assert _never(body) == 7 and "being counted" not in body
    # A refresh that no worker answered is asked for again after a while.
    _age(world.p.tenant_a, dashboard_snapshot.REFRESH_AFTER_SECONDS + 5)
    _home(world, world.p.alice)
    with tenant_context(world.p.tenant_a):
        DashboardSnapshot.objects.update(
            refresh_asked_at=timezone.now()
            - dt.timedelta(seconds=dashboard_snapshot.ASK_AGAIN_SECONDS + 1)
        )
    _home(world, world.p.alice)
    assert len(sent) == 3


def test_a_snapshot_past_its_maximum_age_is_counted_inline(world, monkeypatch):
    from reports.tasks import dashboard_refresh

    monkeypatch.setattr(dashboard_refresh, "apply_async", lambda **kw: None)
    _home(world, world.p.alice)
    with tenant_context(world.p.tenant_a):
        _activity(make_customer(name="Ny Kund AB"), None)
    _age(world.p.tenant_a, dashboard_snapshot.MAX_AGE_SECONDS + 5)
    _client, body = _home(world, world.p.alice)
    assert _never(body) == 7 and "being counted" not in body
    with tenant_context(world.p.tenant_a):
        snapshot = DashboardSnapshot.objects.get()
    assert timezone.now() - snapshot.computed_at < dt.timedelta(seconds=60)


def test_a_snapshot_of_another_day_shows_its_date(world, monkeypatch):
    from reports.tasks import dashboard_refresh

    sent = []
    monkeypatch.setattr(dashboard_refresh, "apply_async", lambda **kw: sent.append(kw))
    _home(world, world.p.alice)
    with tenant_context(world.p.tenant_a):
        snapshot = DashboardSnapshot.objects.get()
        DashboardSnapshot.objects.update(day=snapshot.day - dt.timedelta(days=1))
    _client, body = _home(world, world.p.alice)
    assert len(sent) == 1 and "being counted" in body  # the months moved at midnight
    _age(world.p.tenant_a, 1800)  # within the maximum age, but maybe yesterday
    _client, body = _home(world, world.p.alice)
    shown = re.search(r"Figures as of ([^;]+);", body).group(1)
    with tenant_context(world.p.tenant_a):
        as_of = timezone.localtime(DashboardSnapshot.objects.get().computed_at)
    if as_of.date() != timezone.localdate():
        assert str(as_of.year) in shown or as_of.strftime("%y") in shown
    else:
        assert str(as_of.year) not in shown


def test_row_security_keeps_snapshots_apart(world):
    _home(world, world.p.alice)
    _home(world, world.p.charlie)
    for tenant in (world.p.tenant_a, world.p.tenant_b):
        with tenant_context(tenant), connection.cursor() as cursor:
            cursor.execute("SELECT tenant_id FROM reports_dashboardsnapshot")
            assert [row[0] for row in cursor.fetchall()] == [tenant.pk]
    with connection.cursor() as cursor:  # no tenant: no rows
        cursor.execute("SELECT count(*) FROM reports_dashboardsnapshot")
        assert cursor.fetchone()[0] == 0


def test_a_real_worker_refreshes_the_snapshot(live_personas, celery_worker):
    p = live_personas
    with tenant_context(p.tenant_a):
        make_customer(name="Åsa Lind")
    client = p.client(p.alice)
    assert client.get("/").status_code == 200
    with tenant_context(p.tenant_a):
        first = DashboardSnapshot.objects.get().computed_at
        make_customer(name="Björn Ek")
    _age(p.tenant_a, dashboard_snapshot.REFRESH_AFTER_SECONDS + 5)
    assert "being counted" in client.get("/").content.decode()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with tenant_context(p.tenant_a):
            snapshot = DashboardSnapshot.objects.get()
        if snapshot.computed_at > first:
            break
        time.sleep(0.2)
    assert snapshot.computed_at > first and snapshot.refresh_asked_at is None
    assert snapshot.figures["consent"]["none"] == 2


def test_the_sweep_asks_for_a_new_count_of_old_snapshots_only(world, monkeypatch):
    """Beat keeps every opened dashboard within its maximum age, so nobody waits for a
    count in the morning; a fresh snapshot and a tenant that never opened one are left."""
    from reports.tasks import dashboard_refresh, dashboard_snapshots_sweep

    sent = []
    monkeypatch.setattr(dashboard_refresh, "apply_async", lambda **kw: sent.append(kw))
    _home(world, world.p.alice)  # A has a snapshot, B none
    assert dashboard_snapshots_sweep() == 0 and sent == []  # A's is fresh
    _age(world.p.tenant_a, dashboard_snapshot.KEEP_FRESH_SECONDS + 5)
    assert dashboard_snapshots_sweep() == 1
    assert dashboard_snapshots_sweep() == 0  # asked already: not twice
    assert [kw["kwargs"] for kw in sent] == [{"tenant_id": world.p.tenant_a.pk}]
    with tenant_context(world.p.tenant_b):
        assert not DashboardSnapshot.objects.exists()
