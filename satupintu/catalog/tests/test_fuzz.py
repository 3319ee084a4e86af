"""Whatever a client sends to the public endpoints, the answer is a 2xx or a 4xx with a JSON
code and message, never a 500 (hypothesis generates the input)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satupintu.catalog.tests.factories import make_service

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def service(agency):
    return make_service(agency, name="Izin Penyelenggaraan Reklame", slug="reklame", region_prefixes=["14.71"], min_age=17)


def _ok(response):
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        body = response.json()
        assert body["code"] and body["message"]


@FUZZ
@given(q=st.text(max_size=300), page=st.integers(-5, 1000), size=st.integers(-5, 500),
       kind=st.sampled_from(["", "perizinan", "x", "'--"]))
def test_search_never_fails(client, service, q, page, size, kind):
    params = {"q": q, "page": page, "page_size": size}
    if kind:
        params["kind"] = kind
    _ok(client.get("/api/v1/search", params))


@FUZZ
@given(nik=st.one_of(st.text(max_size=40), st.from_regex(r"\A[0-9]{16}\Z")),
       applicant_type=st.sampled_from(["perorangan", "badan_usaha", "", "x"]),
       on=st.one_of(st.none(), st.dates().map(str), st.text(max_size=12)))
def test_eligibility_never_fails(client, service, nik, applicant_type, on):
    payload = {"nik": nik, "applicant_type": applicant_type}
    if on is not None:
        payload["on"] = on
    _ok(client.post(f"/api/v1/services/{service.uuid}/eligibility", payload, content_type="application/json"))


@FUZZ
@given(start=st.one_of(st.dates().map(str), st.text(max_size=12)), days=st.one_of(st.integers(-10**6, 10**6), st.text(max_size=5)))
def test_calendar_never_fails(client, site, start, days):
    _ok(client.get("/api/v1/calendar/working-days/add", {"start": start, "days": days}))


@pytest.mark.parametrize("method,path,data", [
    ("get", "/api/v1/services", {"agency": "a\x00b"}),
    ("get", "/layanan/", {"instansi": "a\x00b"}),
    ("post", "/api/v1/auth/login", {"username": "a\x00@x.id", "password": "x"}),
    ("post", "/api/v1/auth/register", {"full_name": "A\x00", "password": "Sandi-Rahasia-2026", "nik": "1471025208950003",
                                       "email": "a@b.id"}),
])
def test_nul_characters_are_a_400(client, site, method, path, data):
    if method == "get":
        r = client.get(path, data)
    else:
        import json

        r = client.post(path, json.dumps(data), content_type="application/json")
    assert r.status_code == 400


def test_long_email_is_a_400(api, site):
    r = api.post("/auth/register", {"full_name": "A", "password": "Sandi-Rahasia-2026", "nik": "1471025208950003",
                                    "email": "a" * 300 + "@example.id"})
    assert r.status_code == 400 and "email" in r.json()["details"]


def test_search_hides_services_of_inactive_agencies(api, agency):
    from satupintu.catalog.models import Agency

    make_service(agency, name="Bengkel Las", slug="bengkel")
    assert api.get("/search", {"q": "bengkel"}).json()["count"] == 1
    Agency.objects.filter(pk=agency.pk).update(is_active=False)
    assert api.get("/search", {"q": "bengkel"}).json()["count"] == 0


def test_upper_case_duplicate_slug_is_a_409(api, agency, make_officer):
    token = api.token(make_officer(agency))
    body = {"agency": agency.slug, "kind": "perizinan", "name": "Izin A", "applicant_types": ["perorangan"],
            "completion_days": 1, "procedure": ["a"]}
    assert api.post("/services", {**body, "slug": "izin-a"}, token=token).status_code == 201
    r = api.post("/services", {**body, "slug": "IZIN-A"}, token=token)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_service"


def test_percent_zero_zero_in_json_text_is_just_text(client, citizen):
    """'%00' means NUL only in a form-encoded body; in JSON it is three ordinary characters."""
    import json

    from conftest import PASSWORD

    r = client.post("/api/v1/auth/login", json.dumps({"username": "siti@example.test", "password": "x%00y"}),
                    content_type="application/json")
    assert r.status_code == 401  # a wrong password, not a refused request
    r = client.post("/api/v1/auth/login", json.dumps({"username": "siti@example.test", "password": PASSWORD}),
                    content_type="application/json")
    assert r.status_code == 200
    r = client.post("/akun/masuk/", "username=siti%00&password=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400


def test_nul_in_a_multipart_text_field_is_a_400(client, api, citizen):
    """Upload forms are multipart: their text fields are checked too (PostgreSQL cannot compare NUL)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from satupintu.cases.tests.factories import PDF
    from satupintu.vault.models import Document

    r = client.post("/api/v1/documents", {"document_type": "ktp-el\x00", "file": SimpleUploadedFile("a.pdf", PDF)},
                        HTTP_AUTHORIZATION=f"Bearer {api.token(citizen)}")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input" and Document.objects.count() == 0


def test_half_a_utf16_pair_in_json_is_a_400_and_a_whole_pair_is_text(client, api, citizen, pbg):
    """'\\ud800' alone is valid JSON but no UTF-8 text: the database refused it with a 500."""
    from satupintu.cases.models import Application

    token = api.token(citizen)
    for body in (b'{"service": "dpmptsp/pbg", "notes": "\\ud800"}', b'{"service": "dpmptsp/pbg", "notes": "x\\uDFFFy"}',
                 b'{"service": "dpmptsp/pbg", "notes": "ok", "\\udbff": 1}'):
        r = client.post("/api/v1/applications", body, content_type="application/json",
                            HTTP_AUTHORIZATION=f"Bearer {token}")
        assert r.status_code == 400 and r.json()["code"] == "invalid_input" and r.json()["message"], body
    assert not Application.objects.exists()
    r = client.post("/api/v1/applications", b'{"service": "dpmptsp/pbg", "notes": "\\ud83d\\ude00 \\\\ud800"}',
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 201, r.content  # an emoji as a pair, and an escaped backslash before "ud800"
    assert Application.objects.get().notes == "\U0001F600 \\ud800"
    deep = b"[" * 5000 + b'"\\ud800"' + b"]" * 5000  # past the parser's depth: refused, not a 500
    r = client.post("/api/v1/auth/login", deep, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] in ("invalid_json", "invalid_input"), r.content[:200]


def test_errors_before_the_api_router_are_json_too(client, api, citizen):
    """A path no route takes, a multipart body Django's parser refuses and a body that is not
    JSON all answer {code, message, details} under /api/; pages keep their HTML error pages."""
    for path in ("/api/v1/nope", "/api/v2/applications"):
        r = client.get(path)
        assert r.status_code == 404 and r.json() == {"code": "not_found", "message": "Tidak ditemukan.", "details": None}
    header = 'Content-Disposition: form-data; name="file"; filename="' + "a" * 1100 + '.pdf"'
    body = f"--B\r\n{header}\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--B--\r\n".encode()
    r = client.post("/api/v1/documents", body, content_type="multipart/form-data; boundary=B",
                    HTTP_AUTHORIZATION=f"Bearer {api.token(citizen)}")
    assert r.status_code == 400 and r.json()["code"] == "bad_request" and r.json()["message"]
    r = client.post("/api/v1/auth/login", b"{not json", content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_json" and "JSON" in r.json()["message"]
    r = client.get("/halaman-yang-tidak-ada/")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/html")
