"""Search runs in the database engine (FTS5 or tsvector) on Sastrawi-stemmed text: these tests
run on whichever engine DATABASE_URL selects, and CI runs them on both."""

import pytest

from satupintu.catalog import search, selectors, services
from satupintu.catalog.tests.factories import SYSTEM, make_agency, make_service, simple_workflow
from satupintu.core.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(agency, other_agency):
    return {
        "oss": make_service(agency, name="Perizinan Berusaha Berbasis Risiko melalui OSS", kind="perizinan",
                            description="Pendampingan penerbitan NIB bagi pelaku usaha mikro dan kecil.", slug="oss"),
        "akta": make_service(other_agency, name="Penerbitan Akta Kelahiran", description="Pencatatan kelahiran penduduk.",
                             slug="akta-kelahiran"),
        "kk": make_service(other_agency, name="Pendaftaran Kartu Keluarga Baru", description="Penerbitan KK.", slug="kk"),
        "reklame": make_service(agency, name="Izin Penyelenggaraan Reklame", kind="perizinan",
                                description="Izin memasang papan reklame; usaha periklanan wajib memilikinya.", slug="reklame"),
        "pbb": make_service(agency, name="Pelayanan PBB-P2", description="Pajak bumi dan bangunan.", slug="pbb"),
    }


def names(page):
    return [s.slug for s in page.items]


def test_stemming_makes_izin_usaha_find_perizinan_berusaha(catalogue):
    page = selectors.service_search(actor=None, query="izin usaha")
    assert "oss" in names(page)
    assert "pbb" not in names(page)


def test_daftar_finds_pendaftaran(catalogue):
    assert "kk" in names(selectors.service_search(actor=None, query="daftar"))


def test_kelahiran_and_lahir_meet(catalogue):
    assert names(selectors.service_search(actor=None, query="lahir")) == ["akta"] or \
        names(selectors.service_search(actor=None, query="lahir"))[0] == "akta-kelahiran"
    assert names(selectors.service_search(actor=None, query="kelahiran"))[0] == "akta-kelahiran"


def test_name_match_ranks_above_description_match(catalogue):
    # "reklame" names one service; "usaha" appears in its description only
    page = selectors.service_search(actor=None, query="izin")
    assert names(page)[0] in {"reklame", "oss"}
    page = selectors.service_search(actor=None, query="usaha")
    assert names(page)[0] == "oss"  # in the name (stemmed "berusaha") and the description


def test_all_words_first_then_any_word(catalogue):
    assert names(selectors.service_search(actor=None, query="akta kelahiran")) == ["akta-kelahiran"]
    # no service has both words: fall back to services that have some, ranked
    page = selectors.service_search(actor=None, query="reklame kelahiran")
    assert set(names(page)) == {"reklame", "akta-kelahiran"}


def test_filters_by_agency_and_kind(catalogue, agency, other_agency):
    assert names(selectors.service_search(actor=None, query="penerbitan", agency=other_agency)) in (
        ["akta-kelahiran", "kk"], ["kk", "akta-kelahiran"])
    assert set(names(selectors.service_search(actor=None, query="", kind="perizinan"))) == {"oss", "reklame"}
    with pytest.raises(InvalidInput):
        selectors.service_search(actor=None, query="izin", kind="bukan-jenis")


def test_sql_and_html_are_just_words(catalogue):
    for q in ["'; DROP TABLE catalog_service; --", "<script>alert(1)</script>", 'izin" OR 1=1 --', "NEAR(izin", "*", "usaha:*|"]:
        selectors.service_search(actor=None, query=q)  # no error
    assert "oss" in names(selectors.service_search(actor=None, query='usaha" OR "x'))
    assert selectors.service_search(actor=None, query="<b>").count == 0


def test_too_long_query_is_refused(catalogue):
    with pytest.raises(InvalidInput) as exc:
        selectors.service_search(actor=None, query="izin " * 2000)
    assert exc.value.code == "query_too_long"


def test_page_past_the_end(catalogue):
    with pytest.raises(NotFound):
        selectors.service_search(actor=None, query="izin", page=50)
    assert selectors.service_search(actor=None, query="tidakadakatasepertiini").count == 0


def test_only_published_active_services_are_found(catalogue, agency, make_officer):
    officer = make_officer(agency)
    version = services.service_create(actor=officer, agency=agency, slug="rahasia",
                                      kind="perizinan", content={"name": "Izin Rahasia Draf", "applicant_types": ["perorangan"],
                                                                 "procedure": ["a"], "completion_days": 1,
                                                                 "workflow": simple_workflow(1)})
    assert "rahasia" not in names(selectors.service_search(actor=None, query="rahasia"))
    services.service_version_publish(actor=officer, version=version)
    assert names(selectors.service_search(actor=None, query="rahasia")) == ["rahasia"]
    services.service_retire(actor=SYSTEM, service=catalogue["reklame"])
    assert "reklame" not in names(selectors.service_search(actor=None, query="reklame"))


def test_republished_name_is_reindexed(catalogue, agency, make_officer):
    officer = make_officer(agency)
    draft = services.service_draft_start(actor=officer, service=catalogue["pbb"])
    services.service_draft_update(actor=officer, version=draft, changes={"name": "Mutasi Objek Pajak Bumi"})
    services.service_version_publish(actor=officer, version=draft)
    assert names(selectors.service_search(actor=None, query="mutasi")) == ["pbb"]


def test_query_terms():
    assert search.query_terms("Cara mengurus perizinan berusaha") == ["izin", "usaha"]
    assert search.query_terms("'; DROP--") == ["drop"]
    assert search.query_terms("") == []


class TestSearchApi:
    def test_search_endpoint(self, api, catalogue):
        r = api.get("/search", {"q": "izin usaha"})
        assert r.status_code == 200
        assert r.json()["results"][0]["slug"] == "oss"
        assert r.json()["results"][0]["agency"]["slug"] == "dpmptsp"

    def test_services_list_with_q_and_filters(self, api, catalogue):
        r = api.get("/services", {"q": "penerbitan", "agency": "disdukcapil"})
        assert {x["slug"] for x in r.json()["results"]} == {"akta-kelahiran", "kk"}
        r = api.get("/services", {"kind": "perizinan"})
        assert r.json()["count"] == 2

    @pytest.mark.parametrize("params,status,code", [
        ({"q": "a" * 10_000}, 400, "query_too_long"),
        ({"q": "izin", "page": 99}, 404, "page_out_of_range"),
        ({"q": "izin", "page": 0}, 400, "invalid_page"),
        ({"q": "izin", "page": 10**17}, 400, "invalid_page"),  # would overflow the SQL OFFSET
        ({"page_size": 1000}, 400, "invalid_page_size"),
        ({"agency": "tidak-ada"}, 404, "agency_not_found"),
        ({"kind": "lainnya"}, 422, "invalid_input"),
    ])
    def test_bad_input(self, api, catalogue, params, status, code):
        r = api.get("/search", params)
        assert r.status_code == status, r.content
        assert r.json()["code"] == code and r.json()["message"]

    def test_html_in_query_is_escaped_on_the_page(self, client, catalogue):
        r = client.get("/layanan/", {"q": "<script>alert(1)</script>"})
        assert r.status_code == 200
        assert b"<script>alert(1)</script>" not in r.content

    def test_long_query_on_the_page_is_a_400_with_a_message(self, client, catalogue):
        r = client.get("/layanan/", {"q": "x" * 10_000})
        assert r.status_code == 400
        assert "terlalu panjang" in r.content.decode()


class TestBroadQueries:
    """More matches than RANK_CAP: names holding every word first, then the rest, alphabetically."""

    @pytest.fixture
    def broad(self, agency, monkeypatch):
        monkeypatch.setattr(search, "RANK_CAP", 4)
        for i, name in enumerate(["Zona Izin Usaha", "Alfa Izin Usaha", "Beta Izin", "Gamma Izin"]):
            make_service(agency, name=name, slug=f"broad-{i}", description="Syarat izin dan usaha lengkap.")
        make_service(agency, name="Delta", slug="broad-d", description="Izin usaha tambahan.")
        make_service(agency, name="Omega", slug="broad-o", description="Izin usaha lagi.")

    def test_order_and_cap(self, broad):
        page = selectors.service_search(actor=None, query="izin usaha", page_size=3)
        assert page.capped and page.count == 4
        assert [s.name for s in page.items] == ["Alfa Izin Usaha", "Zona Izin Usaha", "Beta Izin"]
        page2 = selectors.service_search(actor=None, query="izin usaha", page=2, page_size=3)
        assert [s.name for s in page2.items] == ["Gamma Izin"]  # the rest in catalogue order; listing stops at RANK_CAP
        with pytest.raises(NotFound) as exc:
            selectors.service_search(actor=None, query="izin usaha", page=3, page_size=3)
        assert "perjelas" in exc.value.message

    def test_api_says_the_count_is_capped(self, api, broad):
        body = api.get("/search", {"q": "izin usaha", "page_size": 2}).json()
        assert body["count_capped"] is True and body["count"] == 4
        assert [r["name"] for r in body["results"]] == ["Alfa Izin Usaha", "Zona Izin Usaha"]
        assert api.get("/search", {"q": "zona"}).json()["count_capped"] is False


def test_renamed_agency_is_found_by_its_new_name(catalogue, agency, mall_admin):
    agency.name = "Dinas Penanaman Modal Terpadu Madani"
    services.agency_save(actor=mall_admin, agency=agency, fields=["name"])
    found = {s.slug for s in selectors.service_search(actor=None, query="madani").items}
    assert found == {"oss", "reklame", "pbb"}
