"""Versioned standards and who may touch them: an officer maintains only their own agency's
services; drafts are invisible outside it (API, pages and admin)."""

import pytest

from conftest import PASSWORD
from satupintu.catalog import selectors, services
from satupintu.catalog.models import ServiceVersion, VersionStatus
from satupintu.catalog.tests.factories import make_service, simple_workflow
from satupintu.core.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from satupintu.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(agency):
    return make_service(agency, name="Izin Penyelenggaraan Reklame", slug="izin-reklame", kind="perizinan")


@pytest.fixture
def own_admin(agency, make_officer):
    return make_officer(agency, role="agency_admin")


@pytest.fixture
def foreign_admin(other_agency, make_officer):
    return make_officer(other_agency, role="agency_admin")


def test_publishing_creates_a_new_version_and_keeps_the_old_one(service, own_admin):
    v1 = service.current_version
    draft = services.service_draft_start(actor=own_admin, service=service)
    assert draft.number == 2 and draft.status == VersionStatus.DRAFT
    assert [r.document_type.code for r in draft.requirements.all()] == ["ktp-el"]  # copied
    services.service_draft_update(actor=own_admin, version=draft, changes={"completion_days": 5, "fee": 150_000,
                                                                         "fee_basis": "Perda Kota Pekanbaru tentang Retribusi"})
    services.service_version_publish(actor=own_admin, version=draft)
    service.refresh_from_db()
    v1.refresh_from_db()
    assert service.current_version.number == 2 and service.current_version.fee == 150_000
    assert v1.status == VersionStatus.SUPERSEDED and v1.completion_days == 3  # old version unchanged, readable
    assert selectors.service_version_get(actor=None, service=service, number=1).completion_days == 3
    assert AuditEntry.objects.filter(action="service.published", object_id=str(service.uuid)).count() == 2


def test_published_versions_never_change(service, own_admin):
    with pytest.raises(Conflict):
        services.service_draft_update(actor=own_admin, version=service.current_version, changes={"fee": 1})


def test_one_draft_at_a_time(service, own_admin):
    services.service_draft_start(actor=own_admin, service=service)
    with pytest.raises(Conflict):
        services.service_draft_start(actor=own_admin, service=service)


def test_fee_needs_a_legal_basis(service, own_admin):
    draft = services.service_draft_start(actor=own_admin, service=service)
    with pytest.raises(InvalidInput) as exc:
        services.service_draft_update(actor=own_admin, version=draft, changes={"fee": 50_000})
    assert "fee_basis" in exc.value.details
    draft.refresh_from_db()
    assert draft.fee == 0


@pytest.mark.parametrize("changes,field", [
    ({"completion_days": -1}, "completion_days"),
    ({"fee": 1.5}, "fee"),
    ({"applicant_types": ["alien"]}, "applicant_types"),
    ({"requirements": [{"type": "tidak-ada"}]}, "requirements"),
    ({"region_prefixes": ["99.99"]}, "region_prefixes"),
    ({"procedure": "bukan daftar"}, "procedure"),
    ({"name": ""}, "name"),
    ({"unknown": 1}, "unknown"),
])
def test_bad_draft_content_changes_nothing(service, own_admin, changes, field):
    draft = services.service_draft_start(actor=own_admin, service=service)
    before = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.service_draft_update(actor=own_admin, version=draft, changes=changes)
    assert field in exc.value.details
    assert AuditEntry.objects.count() == before
    draft.refresh_from_db()
    assert draft.name == "Izin Penyelenggaraan Reklame"


def test_foreign_officer_cannot_touch_another_agencys_service(service, own_admin, foreign_admin):
    draft = services.service_draft_start(actor=own_admin, service=service)
    with pytest.raises(Forbidden):
        services.service_draft_update(actor=foreign_admin, version=draft, changes={"fee": 0})
    with pytest.raises(Forbidden):
        services.service_version_publish(actor=foreign_admin, version=draft)
    with pytest.raises(Forbidden):
        services.service_draft_start(actor=foreign_admin, service=service)


def test_front_office_officer_of_the_agency_may_read_drafts_but_not_edit(service, own_admin, agency, make_officer):
    fo = make_officer(agency, role="front_office")
    draft = services.service_draft_start(actor=own_admin, service=service)
    assert selectors.service_version_get(actor=fo, service=service, number=draft.number).pk == draft.pk
    with pytest.raises(Forbidden):
        services.service_draft_update(actor=fo, version=draft, changes={"fee": 0})


def test_drafts_are_invisible_outside_the_agency(service, own_admin, foreign_admin, citizen):
    draft = services.service_draft_start(actor=own_admin, service=service)
    for actor in (None, citizen, foreign_admin):
        assert draft.number not in [v.number for v in selectors.service_versions(actor=actor, service=service)]
        with pytest.raises(NotFound):
            selectors.service_version_get(actor=actor, service=service, number=draft.number)


def test_anonymous_cannot_create(agency):
    with pytest.raises(NotAuthenticated):
        services.service_create(actor=None, agency=agency, slug="x", kind="perizinan", content={})


def test_mall_admin_may_edit_any_agency(service, mall_admin):
    draft = services.service_draft_start(actor=mall_admin, service=service)
    services.service_version_publish(actor=mall_admin, version=draft)


class TestApi:
    CONTENT = {"name": "Izin Usaha Penggilingan Padi", "applicant_types": ["badan_usaha"], "completion_days": 5,
               "procedure": ["Ajukan", "Verifikasi", "Terbit"], "requirements": [{"type": "nib", "mandatory": True}],
               "workflow": simple_workflow(5)}

    def test_create_update_publish_through_the_api(self, api, agency, own_admin):
        token = api.token(own_admin)
        r = api.post("/services", {**self.CONTENT, "agency": "dpmptsp", "slug": "penggilingan-padi", "kind": "perizinan"}, token=token)
        assert r.status_code == 201, r.content
        assert r.json()["status"] == "draft" and r.json()["requirements"][0]["type"] == "nib"
        service = agency.services.get(slug="penggilingan-padi")
        # not public yet
        assert api.get(f"/services/{service.uuid}").status_code == 404
        r = api.patch(f"/services/{service.uuid}/versions/1", {"fee": 25_000, "fee_basis": "Perda 1/2024"}, token=token)
        assert r.status_code == 200 and r.json()["fee"] == 25_000
        r = api.post(f"/services/{service.uuid}/versions/1/publish", token=token)
        assert r.status_code == 200 and r.json()["status"] == "published"
        detail = api.get(f"/services/{service.uuid}").json()
        assert detail["standard"]["fee"] == 25_000 and detail["expected_completion_if_complete_today"]
        r = api.post(f"/services/{service.uuid}/drafts", token=token)
        assert r.status_code == 201 and r.json()["number"] == 2
        assert [v["number"] for v in api.get(f"/services/{service.uuid}/versions", token=token).json()] == [2, 1]
        assert [v["number"] for v in api.get(f"/services/{service.uuid}/versions").json()] == [1]

    def test_foreign_officer_gets_403_or_404(self, api, service, own_admin, foreign_admin):
        api.post(f"/services/{service.uuid}/drafts", token=api.token(own_admin))
        token = api.token(foreign_admin)
        assert api.get(f"/services/{service.uuid}/versions/2", token=token).status_code == 404
        assert [v["number"] for v in api.get(f"/services/{service.uuid}/versions", token=token).json()] == [1]
        r = api.patch(f"/services/{service.uuid}/versions/2", {"fee": 0}, token=token)
        assert r.status_code == 404
        r = api.patch(f"/services/{service.uuid}/versions/1", {"fee": 0}, token=token)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        r = api.post(f"/services/{service.uuid}/drafts", token=token)
        assert r.status_code == 403
        r = api.post("/services", {**self.CONTENT, "agency": "dpmptsp", "slug": "x", "kind": "perizinan"}, token=token)
        assert r.status_code == 403
        assert ServiceVersion.objects.filter(service=service).count() == 2

    def test_anonymous_write_is_401(self, api, service):
        assert api.post(f"/services/{service.uuid}/drafts").status_code == 401

    @pytest.mark.parametrize("payload,status,code", [
        ({"completion_days": "lima"}, 422, "invalid_input"),
        ({"fee": -5}, 400, "invalid_service_content"),
        ({"requirements": [{"type": "paspor-alien"}]}, 400, "invalid_service_content"),
        ({"requirements": [{"type": "ktp-el"}, {"type": "ktp-el"}]}, 400, "invalid_service_content"),
        ({"name": None}, 400, "invalid_service_content"),
    ])
    def test_bad_draft_payload(self, api, service, own_admin, payload, status, code):
        token = api.token(own_admin)
        api.post(f"/services/{service.uuid}/drafts", token=token)
        r = api.patch(f"/services/{service.uuid}/versions/2", payload, token=token)
        assert r.status_code == status and r.json()["code"] == code
        assert api.get(f"/services/{service.uuid}/versions/2", token=token).json()["fee"] == 0

    def test_duplicate_slug(self, api, service, own_admin):
        r = api.post("/services", {**self.CONTENT, "agency": "dpmptsp", "slug": "izin-reklame", "kind": "perizinan"},
                     token=api.token(own_admin))
        assert r.status_code == 409 and r.json()["code"] == "duplicate_service"

    def test_unknown_service(self, api):
        r = api.get("/services/00000000-0000-0000-0000-000000000000")
        assert r.status_code == 404 and r.json()["code"] == "service_not_found"


class TestAdmin:
    def test_agency_admin_sees_only_own_agency_in_admin(self, client, service, own_admin, foreign_admin, other_agency):
        foreign_service = make_service(other_agency, name="Akta Kematian", slug="akta-kematian")
        client.force_login(own_admin)
        r = client.get("/admin/catalog/service/")
        assert r.status_code == 200
        assert "Izin Penyelenggaraan Reklame" in r.content.decode() and "Akta Kematian" not in r.content.decode()
        r = client.get(f"/admin/catalog/service/{foreign_service.pk}/change/")
        assert r.status_code in (302, 403, 404)
        r = client.get(f"/admin/catalog/serviceversion/{foreign_service.current_version.pk}/change/")
        assert r.status_code in (302, 403, 404)

    def test_admin_edits_a_draft_through_the_service(self, client, service, own_admin):
        draft = services.service_draft_start(actor=own_admin, service=service)
        client.force_login(own_admin)
        url = f"/admin/catalog/serviceversion/{draft.pk}/change/"
        r = client.get(url)
        assert r.status_code == 200
        form = r.context["adminform"].form
        data = {k: (v if v is not None else "") for k, v in form.initial.items() if k in form.fields}
        for k in ("applicant_types", "procedure", "complaint_channels", "legal_basis", "facilities", "region_prefixes", "workflow"):
            data[k] = form.fields[k].prepare_value(form.initial[k])
        data.update({"completion_days": 7, "min_age": "", "requirements-TOTAL_FORMS": 1, "requirements-INITIAL_FORMS": 1,
                     "requirements-0-id": draft.requirements.first().pk, "requirements-0-version": draft.pk,
                     "requirements-0-document_type": draft.requirements.first().document_type_id,
                     "requirements-0-mandatory": "on", "requirements-0-note": "asli", "requirements-0-position": 0})
        r = client.post(url, data)
        assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
        draft.refresh_from_db()
        assert draft.completion_days == 7 and draft.requirements.get().note == "asli"
        assert AuditEntry.objects.filter(action="service.draft_updated").exists()

    def test_citizen_cannot_enter_admin(self, client, citizen):
        client.force_login(citizen)
        assert client.get("/admin/catalog/service/").status_code == 302

    def test_publish_action(self, client, service, own_admin):
        draft = services.service_draft_start(actor=own_admin, service=service)
        client.force_login(own_admin)
        r = client.post("/admin/catalog/serviceversion/", {"action": "publish", "_selected_action": [draft.pk]})
        assert r.status_code == 302
        draft.refresh_from_db()
        assert draft.status == VersionStatus.PUBLISHED

    def test_login_password_works_for_officers(self, client, own_admin):
        assert client.login(username=own_admin.email, password=PASSWORD)


class TestCountersAndClosures:
    def test_agency_admin_opens_a_counter_for_own_agency_only(self, own_admin, agency, other_agency):
        from satupintu.catalog.models import Counter

        services.counter_save(actor=own_admin, counter=Counter(agency=agency, code="A9", name="Loket Perizinan 9"))
        assert Counter.objects.filter(code="A9", site=agency.site).exists()
        with pytest.raises(Forbidden):
            services.counter_save(actor=own_admin, counter=Counter(agency=other_agency, code="B9", name="Loket"))

    def test_duplicate_counter_code_is_a_clear_error(self, own_admin, agency, client):
        from satupintu.catalog.models import Counter

        existing = agency.counters.first()
        with pytest.raises(InvalidInput):
            services.counter_save(actor=own_admin, counter=Counter(agency=agency, code=existing.code, name="Dobel"))
        client.force_login(own_admin)
        r = client.post("/admin/catalog/counter/add/", {"agency": agency.pk, "code": existing.code, "name": "Dobel",
                                                       "is_active": "on"}, follow=True)
        assert r.status_code == 200 and Counter.objects.filter(name="Dobel").count() == 0

    def test_only_the_mall_admin_adds_closures(self, own_admin, mall_admin, site):
        from datetime import date

        from satupintu.catalog.models import Closure

        with pytest.raises(Forbidden):
            services.closure_save(actor=own_admin, closure=Closure(site=site, date=date(2026, 6, 23), reason="HUT Kota"))
        services.closure_save(actor=mall_admin, closure=Closure(site=site, date=date(2026, 6, 23), reason="HUT Kota"))
        assert AuditEntry.objects.filter(action="closure.created").count() == 1


def test_agency_admin_can_pick_document_types_in_the_admin(client, own_admin, service):
    client.force_login(own_admin)
    r = client.get("/admin/autocomplete/", {"app_label": "catalog", "model_name": "requirement", "field_name": "document_type",
                                            "term": "ktp"})
    assert r.status_code == 200 and r.json()["results"]


def test_publish_waits_for_a_draft_edit_lock(service, own_admin):
    draft = services.service_draft_start(actor=own_admin, service=service)
    services.service_draft_update(actor=own_admin, version=draft, changes={"procedure": ["Satu", "Dua"]})
    services.service_version_publish(actor=own_admin, version=draft)
    service.refresh_from_db()
    assert service.current_version.procedure == ["Satu", "Dua"]


def test_an_agency_keeps_its_slug_and_site(site, agency, mall_admin):
    """Workflows and profiles name agencies by slug: renaming it would orphan them."""
    from satupintu.catalog import services as catalog_services
    from satupintu.core.errors import Conflict

    agency.slug = "dpmptsp-baru"
    with pytest.raises(Conflict):
        catalog_services.agency_save(actor=mall_admin, agency=agency, fields=["slug"])
    agency.refresh_from_db()
    assert agency.slug == "dpmptsp"
