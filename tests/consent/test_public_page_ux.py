"""The customer's consent page (issue 14, item 9): a working language picker, the
company's name, logo and colour, and the company settings that hold them."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from audit.actors import Actor
from consent.models import ConsentDecision
from consent.services import consent_request_create, consent_terms_publish
from tenancy.models import Tenant

DA_TEXT = "Vi gemmer dine oplysninger for at kunne yde dig service."
SYSTEM = Actor.system("tests")


@pytest.fixture
def terms_da(personas, in_a, terms_a):
    with in_a():
        return consent_terms_publish(language="da", text=DA_TEXT, actor=Actor.user(personas.alice))


@pytest.fixture
def link(in_a, customer_a, terms_da):
    with in_a():
        _request, token = consent_request_create(customer=customer_a, channel="email", actor=SYSTEM)
    return f"/c/{token}"


def get(url, ip):
    return Client().get(url, REMOTE_ADDR=ip)


def png(size=(8, 8), pad: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 100, 200)).save(buffer, "PNG")
    return buffer.getvalue() + b"\0" * pad


def company_form(**extra):
    return {
        "name": "Nordljus AB",
        "languages": ["sv", "en"],
        "time_zone": "Europe/Stockholm",
        "fiscal_year_end_month": 12,
        "fiscal_year_end_day": 31,
        **extra,
    }


# --- the language picker --------------------------------------------------------------


def test_the_customers_language_is_preselected(link, ip):
    response = get(link, ip)
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "sv"
    assert '<html lang="sv">' in html
    assert 'href="?lang=sv" lang="sv" hreflang="sv" aria-current="true"' in html
    assert 'href="?lang=da"' in html and 'href="?lang=en"' in html
    assert 'href="?lang=nb"' not in html  # no Norwegian terms published: not offered
    assert "Vi sparar dina uppgifter" in html
    assert 'name="lang" value="sv"' in html


def test_the_picker_changes_language_and_terms(link, ip, terms_da):
    response = get(f"{link}?lang=da", ip)
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "da"
    assert '<html lang="da">' in html
    assert "Samtykke til Nordljus AB" in html and "Jeg accepterer" in html
    assert DA_TEXT in html and "Vi sparar dina uppgifter" not in html
    assert 'href="?lang=da" lang="da" hreflang="da" aria-current="true"' in html
    assert 'name="lang" value="da"' in html


def test_the_post_keeps_the_picked_language_and_proves_its_terms(link, ip, in_a, terms_da):
    response = Client().post(link, {"action": "accept", "lang": "da"}, REMOTE_ADDR=ip)
    assert response.status_code == 302
    assert response["Location"].endswith("?done=accept&lang=da")
    confirmation = get(response["Location"], ip)
    assert confirmation["Content-Language"] == "da"
    assert "Tak. Dit samtykke er registreret." in confirmation.content.decode()
    with in_a():
        decision = ConsentDecision.objects.get()
    assert decision.terms_id == terms_da.pk
    assert (decision.terms_language, decision.terms_sha256) == ("da", terms_da.text_sha256)


def test_the_post_without_a_pick_proves_the_requests_terms(link, ip, in_a, terms_a):
    response = Client().post(link, {"action": "accept"}, REMOTE_ADDR=ip)
    assert response["Location"].endswith("?done=accept")
    with in_a():
        assert ConsentDecision.objects.get().terms_id == terms_a["sv"].pk


@pytest.mark.parametrize("bad", ["xx", "nb", "", "da' onmouseover='x", "sv" * 100, "../en"])
def test_a_bad_language_falls_back_to_the_customers(link, ip, bad):
    response = Client().get(link, {"lang": bad}, REMOTE_ADDR=ip)
    assert response.status_code == 200
    assert response["Content-Language"] == "sv"
    assert "Vi sparar dina uppgifter" in response.content.decode()


def test_a_bad_language_in_the_post_falls_back_too(link, ip, in_a, terms_a):
    response = Client().post(link, {"action": "accept", "lang": "zz"}, REMOTE_ADDR=ip)
    assert response.status_code == 302 and response["Location"].endswith("?done=accept")
    with in_a():
        assert ConsentDecision.objects.get().terms_language == "sv"


# --- the company's name, logo and colour ----------------------------------------------


def test_the_header_shows_the_company_not_kundreg(link, ip):
    html = get(link, ip).content.decode()
    header = html.split('<header class="public-header">')[1].split("</header>")[0]
    assert "Nordljus AB" in header
    assert "Kundreg" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "consent-public.css" in html
    assert "style=" not in html  # the CSP allows no inline style


def test_admin_sets_colour_and_logo_and_the_page_uses_them(personas, link, ip):
    client = personas.client(personas.alice)
    logo = SimpleUploadedFile("logo.png", png(), content_type="image/png")
    response = client.post("/settings/company/", company_form(brand_colour="#12ab9c", logo=logo))
    assert response.status_code == 302, response.content.decode()[:3000]
    tenant = Tenant.objects.get(pk=personas.tenant_a.pk)
    assert tenant.brand_colour == "#12ab9c"
    assert tenant.logo.name.startswith(f"tenants/{tenant.pk}/brand/logo")

    html = get(link, ip).content.decode()
    assert 'href="/c/brand/nordljus.css?v=12ab9c"' in html
    assert 'src="/c/brand/nordljus/logo?v=' in html

    css = Client().get("/c/brand/nordljus.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert "--brand: #12ab9c" in css.content.decode()
    assert "public" in css["Cache-Control"]

    served = Client().get("/c/brand/nordljus/logo")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served.content == png()
    assert "public" in served["Cache-Control"]


def test_an_unchanged_save_keeps_the_logo(personas):
    client = personas.client(personas.alice)
    logo = SimpleUploadedFile("logo.png", png(), content_type="image/png")
    client.post("/settings/company/", company_form(logo=logo))
    name = Tenant.objects.get(pk=personas.tenant_a.pk).logo.name
    assert client.post("/settings/company/", company_form(name="Nordljus 2")).status_code == 302
    assert Tenant.objects.get(pk=personas.tenant_a.pk).logo.name == name
    client.post("/settings/company/", company_form(**{"logo-clear": "on"}))
    assert not Tenant.objects.get(pk=personas.tenant_a.pk).logo


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (("big.png", png(pad=600 * 1024)), "The logo may be at most 500 kB."),
        (("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'), "PNG or JPEG"),
        (("logo.png", b"GIF89a not a png"), "Upload a PNG or JPEG image."),
    ],
)
def test_a_bad_logo_is_a_field_error(personas, upload, message):
    name, content = upload
    response = personas.client(personas.alice).post(
        "/settings/company/", company_form(logo=SimpleUploadedFile(name, content))
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Tenant.objects.get(pk=personas.tenant_a.pk).logo


def test_a_gif_logo_is_refused(personas):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "GIF")
    response = personas.client(personas.alice).post(
        "/settings/company/",
        company_form(logo=SimpleUploadedFile("logo.png", buffer.getvalue())),
    )
    assert response.status_code == 200
    assert "Upload a PNG or JPEG image." in response.content.decode()


@pytest.mark.parametrize("colour", ["#12ab9", "12ab9c", "#12ab9g", "red", "#1;}x{a"])
def test_a_bad_colour_is_a_field_error(personas, colour):
    response = personas.client(personas.alice).post(
        "/settings/company/", company_form(brand_colour=colour)
    )
    assert response.status_code == 200
    assert "Enter a colour as # and six hexadecimal digits" in response.content.decode()
    assert Tenant.objects.get(pk=personas.tenant_a.pk).brand_colour == ""


def test_no_colour_no_logo_no_brand_files(personas, link, ip):
    html = get(link, ip).content.decode()
    assert "/c/brand/" not in html
    assert Client().get("/c/brand/nordljus.css").status_code == 404
    assert Client().get("/c/brand/nordljus/logo").status_code == 404
    assert Client().get("/c/brand/no-such-company/logo").status_code == 404


def test_another_companys_logo_is_not_served_under_ours(personas):
    logo = SimpleUploadedFile("logo.png", png(), content_type="image/png")
    response = personas.client(personas.charlie).post(
        "/settings/company/",
        company_form(name="Fjordvik AS", languages=["nb"], logo=logo, brand_colour="#000000"),
    )
    assert response.status_code == 302
    assert Client().get("/c/brand/fjordvik/logo").status_code == 200
    assert Client().get("/c/brand/nordljus/logo").status_code == 404
    assert Client().get("/c/brand/nordljus.css").status_code == 404
    # Even a logo name pointing at another company's prefix is never served.
    b = Tenant.objects.get(pk=personas.tenant_b.pk)
    Tenant.objects.filter(pk=personas.tenant_a.pk).update(logo=b.logo.name)
    assert Client().get("/c/brand/nordljus/logo").status_code == 404


def test_staff_cannot_change_the_brand(personas):
    response = personas.client(personas.bob).post(
        "/settings/company/", company_form(brand_colour="#000000")
    )
    assert response.status_code == 403
