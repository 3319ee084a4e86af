"""Workflows as version content: every bad stage is refused with a message naming it, nothing
is stored; the published page shows the stages and the fiktif positif line."""

import copy

import pytest

from satupintu.catalog import services
from satupintu.catalog.models import ServiceVersion
from satupintu.catalog.tests.factories import make_service, simple_workflow
from satupintu.catalog.workflow import clean_workflow, longest_path
from satupintu.core.errors import InvalidInput
from satupintu.core.models import AuditEntry

pytestmark = pytest.mark.django_db

SLUGS = {"dpmptsp", "dinas-pupr", "bapenda-kota"}


def pbg_like():
    return [
        {"key": "kelengkapan", "kind": "completeness_check", "name": "Kelengkapan", "agencies": ["{owner}"],
         "role": "front_office", "sla_days": 1, "after": []},
        {"key": "kajian", "kind": "technical_review", "name": "Kajian teknis", "agencies": ["dinas-pupr"],
         "role": "technical_reviewer", "sla_days": 5, "after": ["kelengkapan"]},
        {"key": "tinjau", "kind": "field_inspection", "name": "Tinjau lapangan", "agencies": ["dinas-pupr"],
         "role": "technical_reviewer", "sla_days": 3, "after": ["kelengkapan"]},
        {"key": "tim", "kind": "technical_team", "name": "Tim teknis", "agencies": ["dinas-pupr", "{owner}", "bapenda-kota"],
         "role": "technical_reviewer", "sla_days": 4, "after": ["kajian", "tinjau"]},
        {"key": "ttd", "kind": "approval", "name": "Tanda tangan", "agencies": ["{owner}"], "role": "head", "sla_days": 2,
         "after": ["tim"]},
    ]


def clean(stages, days=28):
    return clean_workflow(stages, agency_slugs=SLUGS, owner_slug="dpmptsp", completion_days=days)


def problems(stages, days=28) -> str:
    with pytest.raises(InvalidInput) as exc:
        clean(stages, days)
    assert exc.value.code == "invalid_workflow"
    return " | ".join(exc.value.details["workflow"])


def test_a_good_workflow_is_stored_with_owner_resolved_and_parallel_branches():
    stages = clean(pbg_like())
    assert stages[0]["agencies"] == ["dpmptsp"]
    assert stages[3]["agencies"] == ["dinas-pupr", "dpmptsp", "bapenda-kota"]
    assert all(list(s) == ["key", "kind", "name", "agencies", "role", "sla_days", "after"] for s in stages)
    assert longest_path(stages) == (12, ["kelengkapan", "kajian", "tim", "ttd"])  # parallel branch of 3 days is not counted


def _with(i, **changes):
    stages = pbg_like()
    stages[i].update(changes)
    return stages


@pytest.mark.parametrize("stages,days,needle", [
    (_with(1, agencies=["dinas-antah"]), 28, "instansi 'dinas-antah' tidak dikenal"),
    (_with(1, role="mall_admin"), 28, "peran 'mall_admin' tidak dikenal"),
    (_with(1, role="citizen"), 28, "peran 'citizen'"),
    (_with(1, kind="ritual"), 28, "jenis tahap 'ritual' tidak dikenal"),
    (_with(3, agencies=["dinas-pupr"]), 28, "tim teknis memerlukan paling sedikit dua instansi"),
    (_with(3, agencies=["dinas-pupr", "dinas-pupr"]), 28, "lebih dari sekali"),
    (_with(1, agencies=["dinas-pupr", "dpmptsp"]), 28, "tepat satu instansi"),
    (_with(1, after=["hantu"]), 28, "menunggu tahap 'hantu' yang tidak ada"),
    (_with(1, sla_days=61), 28, "SLA harus bilangan bulat"),
    (_with(1, sla_days=True), 28, "SLA harus bilangan bulat"),
    (_with(1, key="Kajian Teknis"), 28, "key hanya boleh"),
    (_with(1, key="kajian\n"), 28, "key hanya boleh"),
    (_with(1, after=[]), 28, "Tahap 'kajian' harus menunggu tahap sebelumnya"),
    (_with(1, key="kelengkapan"), 28, "dipakai lebih dari sekali"),
    (_with(0, kind="data_entry"), 28, "Tahap pertama harus pemeriksaan kelengkapan"),
    (_with(1, after=["tinjau"]), 28, "tercantum sesudahnya"),
    (pbg_like(), 11, "(kelengkapan → kajian → tim → ttd) 12 hari kerja melebihi jangka waktu penyelesaian 11"),
    ([], 28, "minimal satu tahap"),
    ("bukan daftar", 28, "daftar tahap"),
])
def test_bad_workflows_name_the_problem(stages, days, needle):
    assert needle in problems(stages, days)


def test_a_cycle_names_its_stages():
    stages = pbg_like()
    stages[1]["after"] = ["tim"]  # kajian waits for tim, which waits for kajian
    message = problems(stages)
    assert "siklus" in message and "kajian → tim → kajian" in message


def test_a_stage_waiting_for_itself_is_a_cycle():
    assert "ttd → ttd" in problems(_with(4, after=["ttd"]))


def test_every_problem_is_listed_not_only_the_first():
    stages = pbg_like()
    stages[1]["role"] = "raja"
    stages[2]["agencies"] = ["entah"]
    stages[3]["extra"] = 1
    with pytest.raises(InvalidInput) as exc:
        clean(stages)
    assert len(exc.value.details["workflow"]) == 3


# --- through the services, the API and the page -------------------------------------------------


@pytest.fixture
def service(agency, other_agency):
    return make_service(agency, slug="izin-reklame", name="Izin Penyelenggaraan Reklame", kind="perizinan", completion_days=5)


@pytest.fixture
def own_admin(agency, make_officer):
    return make_officer(agency, role="agency_admin")


def test_factory_gives_a_simple_valid_workflow(service, agency):
    v = service.current_version
    assert [(s["kind"], s["role"], s["agencies"]) for s in v.workflow] == [
        ("completeness_check", "front_office", [agency.slug]), ("technical_review", "verifier", [agency.slug]),
        ("approval", "head", [agency.slug]),
    ]
    assert sum(s["sla_days"] for s in v.workflow) == 5 and v.deemed_approval is False


def test_draft_update_validates_the_workflow_and_stores_nothing_when_bad(service, own_admin, other_agency):
    draft = services.service_draft_start(actor=own_admin, service=service)
    bad = simple_workflow(5)
    bad[1]["agencies"] = ["tidak-ada"]
    before = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.service_draft_update(actor=own_admin, version=draft, changes={"workflow": bad})
    assert "tidak-ada" in " ".join(exc.value.details["workflow"])
    assert AuditEntry.objects.count() == before
    draft.refresh_from_db()
    assert draft.workflow == service.current_version.workflow
    good = simple_workflow(5)
    good[1]["agencies"] = [other_agency.slug]  # another tenant of the same mall verifies
    services.service_draft_update(actor=own_admin, version=draft, changes={"workflow": good, "deemed_approval": True})
    draft.refresh_from_db()
    assert draft.workflow[1]["agencies"] == [other_agency.slug] and draft.deemed_approval


def test_shortening_completion_days_below_the_stage_slas_is_refused(service, own_admin):
    draft = services.service_draft_start(actor=own_admin, service=service)
    with pytest.raises(InvalidInput) as exc:
        services.service_draft_update(actor=own_admin, version=draft, changes={"completion_days": 2})
    assert "melebihi jangka waktu" in " ".join(exc.value.details["workflow"])
    draft.refresh_from_db()
    assert draft.completion_days == 5


def test_an_agency_of_another_mall_is_unknown(service, own_admin):
    from satupintu.catalog.tests.factories import make_agency, make_site

    foreign = make_agency(site=make_site(slug="mpp-lain"))
    draft = services.service_draft_start(actor=own_admin, service=service)
    bad = simple_workflow(5)
    bad[1]["agencies"] = [foreign.slug]
    with pytest.raises(InvalidInput):
        services.service_draft_update(actor=own_admin, version=draft, changes={"workflow": bad})


def test_a_draft_without_workflow_cannot_be_published(agency, make_officer):
    officer = make_officer(agency)
    version = services.service_create(actor=officer, agency=agency, slug="tanpa-alur", kind="non_perizinan", content={
        "name": "Layanan Tanpa Alur", "applicant_types": ["perorangan"], "procedure": ["a"], "completion_days": 1})
    with pytest.raises(InvalidInput) as exc:
        services.service_version_publish(actor=officer, version=version)
    assert "workflow" in exc.value.details
    version.refresh_from_db()
    assert version.status == "draft"


def test_workflow_is_part_of_the_content_digest(service, own_admin):
    old = service.current_version.content_digest
    draft = services.service_draft_start(actor=own_admin, service=service)
    services.service_draft_update(actor=own_admin, version=draft, changes={"deemed_approval": True})
    services.service_version_publish(actor=own_admin, version=draft)
    draft.refresh_from_db()
    assert draft.content_digest != old


class TestApi:
    def test_bad_workflow_in_a_draft_edit_is_a_400_with_details(self, api, service, own_admin):
        token = api.token(own_admin)
        assert api.post(f"/services/{service.uuid}/drafts", token=token).status_code == 201
        bad = copy.deepcopy(service.current_version.workflow)
        bad[1]["after"] = ["persetujuan"]
        bad[2]["after"] = ["verifikasi"]
        bad[2]["role"] = "citizen"
        r = api.patch(f"/services/{service.uuid}/versions/2", {"workflow": bad}, token=token)
        assert r.status_code == 400, r.content
        body = r.json()
        assert body["code"] == "invalid_service_content"
        assert any("citizen" in p for p in body["details"]["workflow"])
        assert ServiceVersion.objects.get(service=service, number=2).workflow == service.current_version.workflow

    def test_workflow_and_deemed_approval_round_trip(self, api, service, own_admin):
        token = api.token(own_admin)
        api.post(f"/services/{service.uuid}/drafts", token=token)
        wf = simple_workflow(5)
        r = api.patch(f"/services/{service.uuid}/versions/2", {"workflow": wf, "deemed_approval": True}, token=token)
        assert r.status_code == 200, r.content
        assert r.json()["workflow"][0]["agencies"] == [service.agency.slug] and r.json()["deemed_approval"] is True
        assert api.post(f"/services/{service.uuid}/versions/2/publish", token=token).status_code == 200
        standard = api.get(f"/services/{service.uuid}").json()["standard"]
        assert [s["key"] for s in standard["workflow"]] == ["kelengkapan", "verifikasi", "persetujuan"]
        assert standard["deemed_approval"] is True

    def test_a_stage_missing_after_is_refused(self, api, service, own_admin):
        token = api.token(own_admin)
        api.post(f"/services/{service.uuid}/drafts", token=token)
        wf = simple_workflow(5)
        del wf[1]["after"]
        r = api.patch(f"/services/{service.uuid}/versions/2", {"workflow": wf}, token=token)
        assert 400 <= r.status_code < 500
        assert ServiceVersion.objects.get(service=service, number=2).workflow == service.current_version.workflow


def test_the_service_page_shows_the_stages_and_fiktif_positif(client, agency, other_agency):
    wf = simple_workflow(5)
    wf[1] = {**wf[1], "kind": "technical_team", "name": "Rapat tim teknis lintas instansi",
             "agencies": ["{owner}", other_agency.slug], "role": "technical_reviewer"}
    service = make_service(agency, slug="pbg", name="Persetujuan Bangunan Gedung", kind="perizinan",
                           completion_days=5, deemed_approval=True, workflow=wf)
    r = client.get(f"/layanan/{agency.slug}/{service.slug}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "Alur penanganan berkas" in html and "Rapat tim teknis lintas instansi" in html
    assert other_agency.short_name in html and "3 hari kerja" in html
    assert "Fiktif positif" in html and "dianggap dikabulkan" in html


def test_the_page_without_fiktif_positif_says_nothing_about_it(client, service):
    html = client.get(f"/layanan/{service.agency.slug}/{service.slug}/").content.decode()
    assert "Fiktif positif" not in html and "Pemeriksaan kelengkapan berkas" in html


def test_service_page_queries_do_not_grow_with_stages(client, agency, other_agency, django_assert_max_num_queries):
    stages = simple_workflow(20)
    for i in range(12):  # many stages naming both agencies: one agency query in all
        stages.insert(-1, {"key": f"kajian-{i}", "kind": "technical_team", "name": f"Kajian {i}", "agencies": ["{owner}", other_agency.slug],
                           "role": "technical_reviewer", "sla_days": 0, "after": [stages[-2]["key"]]})
    stages[-1]["after"] = [stages[-2]["key"]]
    service = make_service(agency, slug="panjang", completion_days=20, workflow=stages)
    with django_assert_max_num_queries(12):
        r = client.get(f"/layanan/{agency.slug}/{service.slug}/")
    assert r.status_code == 200 and "Kajian 11" in r.content.decode()


def test_the_service_page_counts_from_the_sites_date_not_the_servers(client, service, monkeypatch):
    """At 03:00 WIB on Friday 13 March it is still Thursday in UTC: the page's "today" and the
    expected completion start from the site's own date."""
    from datetime import date, datetime, timezone as tz

    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 3, 12, 20, 0, tzinfo=tz.utc))
    r = client.get(f"/layanan/{service.agency.slug}/{service.slug}/")
    assert r.status_code == 200 and r.context["today"] == date(2026, 3, 13)
