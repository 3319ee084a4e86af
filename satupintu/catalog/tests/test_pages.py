"""Pages and list endpoints, with query counts sized so that an N+1 would show."""

import pytest

from satupintu.catalog.tests.factories import make_agency, make_service
from satupintu.catalog.models import DocumentType

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_catalogue(site):
    agencies = [make_agency(site) for _ in range(12)]
    for i in range(60):
        make_service(agencies[i % 12], name=f"Izin Usaha Nomor {i}", kind="perizinan" if i % 2 else "non_perizinan")
    return agencies


def test_home_lists_agencies(client, big_catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        r = client.get("/")
    assert r.status_code == 200
    assert r.content.decode().count('class="card"') == 12


def test_catalogue_page(client, big_catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        r = client.get("/layanan/", {"q": "izin usaha"})
    assert r.status_code == 200 and r.context["page"].count == 60
    with django_assert_max_num_queries(8):
        r = client.get("/layanan/", {"jenis": "perizinan", "halaman": 2})
    assert len(r.context["page"].items) == 10
    r = client.get("/layanan/", {"halaman": 99})
    assert r.status_code == 404 and "melewati" in r.content.decode()


def test_catalogue_partial_for_htmx(client, big_catalogue):
    r = client.get("/layanan/", {"q": "izin"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in r.content.decode()


def test_agency_pages(client, big_catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        r = client.get("/instansi/")
    assert r.status_code == 200
    with django_assert_max_num_queries(8):
        r = client.get(f"/instansi/{big_catalogue[0].slug}/")
    assert r.status_code == 200 and r.content.decode().count('class="result"') == 5
    assert client.get("/instansi/tidak-ada/").status_code == 404


def test_service_page_shows_all_14_components_and_due_date(client, agency):
    service = make_service(agency, name="Persetujuan Bangunan Gedung", slug="pbg", fee=0, completion_days=28)
    r = client.get("/layanan/dpmptsp/pbg/")
    html = r.content.decode()
    assert r.status_code == 200
    assert html.count('<li><h3>') == 14
    for label in ("Persyaratan", "Biaya/tarif", "Dasar hukum", "Evaluasi kinerja pelaksana"):
        assert label in html
    assert "Gratis" in html and r.context["due"] > r.context["today"]
    assert client.get("/layanan/dpmptsp/tidak-ada/").status_code == 404


def test_old_version_page(client, agency, make_officer):
    from satupintu.catalog import services

    service = make_service(agency, slug="reklame", name="Izin Reklame")
    officer = make_officer(agency)
    draft = services.service_draft_start(actor=officer, service=service)
    services.service_draft_update(actor=officer, version=draft, changes={"name": "Izin Penyelenggaraan Reklame"})
    assert "DRAF" not in client.get("/layanan/dpmptsp/reklame/?versi=2").content.decode()  # 404 for the public
    assert client.get("/layanan/dpmptsp/reklame/?versi=2").status_code == 404
    services.service_version_publish(actor=officer, version=draft)
    html = client.get("/layanan/dpmptsp/reklame/?versi=1").content.decode()
    assert "versi lama" in html.lower() and "Izin Reklame" in html


def test_english_switch(client, agency):
    make_service(agency, slug="x")
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert r.status_code == 200
    assert "Search services" in r.content.decode()
    assert '<html lang="en">' in r.content.decode()


class TestApiLists:
    def test_services_list(self, api, big_catalogue, django_assert_max_num_queries):
        with django_assert_max_num_queries(4):
            r = api.get("/services", {"page_size": 50})
        assert r.status_code == 200 and r.json()["count"] == 60 and len(r.json()["results"]) == 50
        with django_assert_max_num_queries(4):
            r = api.get("/search", {"q": "izin usaha", "page_size": 50})
        assert len(r.json()["results"]) == 50

    def test_agencies_list(self, api, big_catalogue, django_assert_max_num_queries):
        with django_assert_max_num_queries(3):
            r = api.get("/agencies")
        assert r.json()["count"] == 12 and r.json()["results"][0]["service_count"] == 5

    def test_agency_detail(self, api, big_catalogue):
        r = api.get(f"/agencies/{big_catalogue[0].slug}")
        assert r.status_code == 200 and r.json()["counters"][0]["code"].startswith("Z")
        assert api.get(f"/agencies/{big_catalogue[0].uuid}").status_code == 200
        assert api.get("/agencies/tidak-ada").json()["code"] == "agency_not_found"

    def test_versions_list(self, api, agency, make_officer, django_assert_max_num_queries):
        from satupintu.catalog import services

        service = make_service(agency, slug="v")
        officer = make_officer(agency)
        for _ in range(8):
            draft = services.service_draft_start(actor=officer, service=service)
            services.service_version_publish(actor=officer, version=draft)
        with django_assert_max_num_queries(3):
            r = api.get(f"/services/{service.uuid}/versions")
        assert [v["number"] for v in r.json()] == list(range(9, 0, -1))

    def test_document_types(self, api, site):
        assert {d["code"] for d in api.get("/document-types").json()} >= {"ktp-el", "kk"}

    def test_openapi(self, api):
        r = api.get("/openapi.json")
        assert r.status_code == 200
        paths = r.json()["paths"]
        for p in ("/api/v1/services", "/api/v1/search", "/api/v1/calendar/working-days/add", "/api/v1/auth/register",
                  "/api/v1/services/{uuid}/eligibility"):
            assert p in paths
        error = {"$ref": "#/components/schemas/Error"}
        assert r.json()["components"]["schemas"]["Error"]["required"] == ["code", "message", "details"]
        for operations in paths.values():  # every refusal has the one shape, and says so
            for operation in operations.values():
                for code in ("400", "401", "403", "404", "409", "422", "429"):
                    assert operation["responses"][code]["content"]["application/json"]["schema"] == error


def test_indonesian_first_even_for_an_english_browser(client, agency):
    r = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="id">' in r.content.decode() and "Cari layanan" in r.content.decode()


def test_api_messages_follow_accept_language(api, client, site):
    r = client.get("/api/v1/search", {"q": "x" * 300}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and "too long" in r.json()["message"].lower()
    r = client.get("/api/v1/search", {"q": "x" * 300})
    assert "terlalu panjang" in r.json()["message"]


def test_stylesheet_and_htmx_are_served_locally(client):
    for path in ("/static/satupintu/css/app.css", "/static/satupintu/vendor/htmx-2.0.8.min.js"):
        r = client.get(path)
        assert r.status_code == 200, path


def test_document_types_list(api, site, django_assert_max_num_queries):
    from satupintu.catalog import services as catalog_services
    from satupintu.catalog.tests.factories import SYSTEM

    catalog_services.document_types_upsert(actor=SYSTEM, items=[
        {"code": f"dok-{i}", "name": f"Dokumen {i}", "description": ""} for i in range(40)])
    with django_assert_max_num_queries(2):
        r = api.get("/document-types")
    assert len(r.json()) == DocumentType.objects.count() == 44  # 3 from the fixture, BAP from a migration, 40 new


def test_admin_changelists(client, big_catalogue, mall_admin, django_assert_max_num_queries):
    client.force_login(mall_admin)
    for url in ("/admin/catalog/service/", "/admin/catalog/serviceversion/", "/admin/catalog/counter/",
                "/admin/catalog/agency/", "/admin/identity/user/", "/admin/core/auditentry/"):
        with django_assert_max_num_queries(14):
            r = client.get(url)
        assert r.status_code == 200, url
