"""The one permission suite every view and API endpoint joins (after NetBox and healthchecks).

Each row of ``CASES`` is one request and the status every persona must get:
anonymous (for the API: no key), the four roles of tenant A (Alice admin, Bea
bookkeeper, Bob office staff, Erik employee), Charlie (admin of tenant B, to
whom A's objects do not exist), A's and B's API keys, and a wrong key.

The rules: a browser page sends the anonymous (and API keys, which are no
browser login) to the login page; a signed-in user with no membership in the
object's tenant gets 404, one whose role lacks the permission gets 403
(``tenancy.roles.ROLE_PERMISSIONS``, ``tenancy.decorators``); the API answers
401 problem+json without valid credentials. A refused request changes nothing.

**A new view joins by adding one row.** ``test_every_url_has_a_row`` fails
for any URL pattern that has neither a row nor a place in ``EXEMPT``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from audit.actors import Actor
from audit.models import AuditEvent
from audit.services import audit_record
from customers.services import keys
from customers.services.activities import activity_add, activity_complete
from customers.services.addresses import address_add
from customers.services.attachments import attachment_add_file
from customers.services.consignees import consignee_create
from customers.services.contacts import contact_create
from customers.services.selections import saved_list_save, selection_add
from tenancy.context import tenant_context
from tenancy.models import ApiKey, ReferenceRegister
from tests.factories import ReferenceEntryFactory, make_customer
from tests.personas import Personas

WHO = ("anonymous", "alice", "bea", "bob", "erik", "charlie", "key_a", "key_b", "bad_key")
LOGIN = "login"  # 302 to the login page


def page(alice, bea, bob, erik, charlie) -> tuple:
    """A browser page: no session (an API key is none) means the login page."""
    return (LOGIN, alice, bea, bob, erik, charlie, LOGIN, LOGIN, LOGIN)


def api(alice, bea, bob, erik, charlie, key_a, key_b) -> tuple:
    """An API endpoint: no key or a wrong one is a 401."""
    return (401, alice, bea, bob, erik, charlie, key_a, key_b, 401)


PUBLIC_API = (200,) * 8 + (401,)  # open to all, but a wrong key is still refused


@dataclass
class World:
    """Personas plus tenant A's objects; ``{name}`` in a case's URL or data is one of these."""

    p: Personas
    tenant_a: int
    entry_a: int  # a payment-terms entry
    member_a: int  # Bob's membership
    prefix_a: str  # A's API key
    seq_a: int  # an audit event number tenant B does not have
    customer_a: int


@dataclass(frozen=True)
class Case:
    method: str
    url: str
    expect: tuple  # one status per persona in WHO
    data: dict = field(default_factory=dict)
    bugs: dict[str, str] = field(default_factory=dict)  # persona -> known bug (strict xfail)

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


ENTRY = {"code": "N30", "name": "30 days net", "description": "", "sort_order": 0}

# fmt: off
CASES = [
    # Browser pages:          alice bea  bob  erik charlie
    Case("GET",  "/",                                          page(200, 200, 200, 200, 200)),
    Case("POST", "/settings/tenant/switch/",                   page(302, 302, 302, 302, 404),
         data={"tenant": "{tenant_a}"}),
    Case("GET",  "/settings/company/",                         page(200, 403, 403, 403, 200)),
    Case("GET",  "/settings/members/",                         page(200, 403, 403, 403, 200)),
    Case("POST", "/settings/members/{member_a}/",              page(302, 403, 403, 403, 404),
         data={"role": "employee", "is_active": "on"}),
    Case("GET",  "/settings/members/{member_a}/",              page(405, 403, 403, 403, 405)),
    Case("GET",  "/settings/registers/",                       page(200, 403, 403, 403, 200)),
    Case("GET",  "/settings/registers/payment_terms/",         page(200, 403, 403, 403, 200)),
    Case("GET",  "/settings/registers/nonsense/",              page(404, 403, 403, 403, 404)),
    Case("GET",  "/settings/registers/payment_terms/{entry_a}/", page(200, 403, 403, 403, 404)),
    Case("POST", "/settings/registers/payment_terms/{entry_a}/", page(302, 403, 403, 403, 404),
         data=ENTRY),
    Case("GET",  "/settings/api-keys/",                        page(200, 403, 403, 403, 200)),
    Case("POST", "/settings/api-keys/",                        page(200, 403, 403, 403, 200),
         data={"name": "New till"}),
    Case("POST", "/settings/api-keys/{prefix_a}/revoke/",      page(302, 403, 403, 403, 404)),
    Case("GET",  "/settings/api-keys/{prefix_a}/revoke/",      page(405, 403, 403, 403, 405)),
    Case("GET",  "/audit/",                                    page(200, 200, 403, 403, 200)),
    Case("GET",  "/customers/",                                page(200, 200, 200, 403, 200)),
    Case("GET",  "/customers/{customer_a}/",                   page(200, 200, 200, 403, 404)),
    Case("GET",  "/customers/{customer_a}/history/",           page(200, 200, 200, 403, 404)),
    Case("GET",  "/customers/{customer_a}/settings/",          page(200, 200, 200, 403, 404)),
    Case("GET",  "/customers/{customer_a}/delete/",            page(200, 200, 403, 403, 404)),
    # API:                                   alice bea  bob  erik charlie key_a key_b
    Case("GET",    "/api/v1/me/",                           api(200, 200, 200, 200, 200, 200, 200)),
    Case("GET",    "/api/v1/audit-events/",                 api(200, 200, 403, 403, 200, 200, 200)),
    Case("GET",    "/api/v1/audit-events/{seq_a}/",         api(200, 200, 403, 403, 404, 200, 404)),
    Case("DELETE", "/api/v1/audit-events/{seq_a}/",         api(405, 405, 405, 405, 405, 405, 405)),
    Case("GET",    "/api/v1/reference-entries/",            api(200, 200, 200, 403, 200, 200, 200)),
    Case("POST",   "/api/v1/reference-entries/",            api(201, 403, 403, 403, 201, 201, 201),
         data={"register": "payment_terms", **ENTRY}),
    Case("GET",    "/api/v1/reference-entries/{entry_a}/",  api(200, 200, 200, 403, 404, 200, 404)),
    Case("PATCH",  "/api/v1/reference-entries/{entry_a}/",  api(200, 403, 403, 403, 404, 200, 404),
         data={"name": "Net 30"}),
    Case("GET",    "/api/v1/customers/",                    api(200, 200, 200, 403, 200, 200, 200)),
    Case("GET",    "/api/v1/customers/{customer_a}/",       api(200, 200, 200, 403, 404, 200, 404)),
    Case("GET",    "/api/schema/",                          PUBLIC_API),
    Case("GET",    "/api/docs/",                            PUBLIC_API),
    Case("GET",    "/api/redoc/",                           PUBLIC_API),
]
# fmt: on

# URL names outside this suite, and why.
EXEMPT = {
    "login": "public; tests/web/test_auth.py",
    "logout": "tests/web/test_auth.py",
    "password_reset": "public; tests/web/test_auth.py",
    "password_reset_done": "public",
    "password_reset_confirm": "public, token-guarded; tests/web/test_auth.py",
    "password_reset_complete": "public",
    "set_language": "public; tests/web/test_auth.py",
    "healthz": "public, for the load balancer; holds no tenant data",
}


@pytest.fixture
def world(personas) -> World:
    p = personas
    with tenant_context(p.tenant_b):
        b_events = AuditEvent.objects.count()
    with tenant_context(p.tenant_a):
        entry = ReferenceEntryFactory(code="A30")
        customer = make_customer(name="Nordljus Kund AB")
        for _ in range(b_events + 1):
            event = audit_record(action="test.event", actor=Actor.system("tests"))
        prefix = ApiKey.objects.get(name="Till A").prefix
    return World(
        p=p,
        tenant_a=p.tenant_a.pk,
        entry_a=entry.pk,
        member_a=p.bob.memberships.get().pk,
        prefix_a=prefix,
        seq_a=event.seq,
        customer_a=customer.pk,
    )


def _fill(value, world: World):
    return value.format(**vars(world)) if isinstance(value, str) else value


def _client(w: World, who: str) -> Client:
    p = w.p
    if who == "anonymous":
        return Client()
    if who.startswith("key_"):
        return p.api(getattr(p, who))
    if who == "bad_key":
        return p.api(f"{w.prefix_a}.not-the-secret")
    return p.client(getattr(p, who))


def _audit_counts(w: World) -> tuple[int, int]:
    counts = []
    for tenant in (w.p.tenant_a, w.p.tenant_b):
        with tenant_context(tenant):
            counts.append(AuditEvent.objects.count())
    return tuple(counts)


def _params():
    for case in CASES:
        for who, expected in zip(WHO, case.expect, strict=True):
            bug = case.bugs.get(who)
            marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
            yield pytest.param(case, who, expected, id=f"{case}-{who}", marks=marks)


@pytest.mark.parametrize(("case", "who", "expected"), list(_params()))
def test_permission(world, case, who, expected):
    url = _fill(case.url, world)
    data = {key: _fill(value, world) for key, value in case.data.items()}
    is_api = url.startswith("/api/v1/")
    before = _audit_counts(world)
    response = getattr(_client(world, who), case.method.lower())(
        url, data, **({"content_type": "application/json"} if is_api else {})
    )

    if expected == LOGIN:
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response.status_code == expected, response.content[:300]
        if expected == 302:
            assert not response["Location"].startswith("/accounts/login/")
    if is_api and response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == response.status_code
        assert "{" not in problem["title"], problem["title"]
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Api-Key"
    if expected in (LOGIN, 401, 403, 404, 405):
        assert _audit_counts(world) == before, "a refused request changed something"


def _url_names(patterns, prefix="") -> dict[str, str]:
    found = {}
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found |= _url_names(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found[entry.name or f"<unnamed {prefix}{entry.pattern}>"] = prefix + str(entry.pattern)
    return found


def test_every_url_has_a_row(world):
    covered = {resolve(_fill(case.url, world)).url_name for case in CASES}
    missing = {
        name: route
        for name, route in _url_names(get_resolver().url_patterns).items()
        if name not in covered and name not in EXEMPT
    }
    assert not missing, f"add a row to CASES (or a reason to EXEMPT) for: {missing}"
