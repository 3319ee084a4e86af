"""Decisions on stages: releasing a claim left by an officer who is away, the field-inspection
report (BAP) and who may put it into the applicant's vault, the separate and confirmed rejection,
over-long reasons, and the officer's application page (who may open it, what it keeps when a
decision is refused)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from satupintu.cases import services
from satupintu.cases.models import Application, StageReport, StageTask, Status, TaskStatus
from satupintu.catalog.models import DocumentType
from satupintu.catalog.selectors import filing_catalogue
from satupintu.core.errors import Conflict, Forbidden, InvalidInput
from satupintu.core.models import AuditEntry
from satupintu.identity.models import User
from satupintu.vault.models import Document
from satupintu.vault.services import document_upload

from .factories import PDF
from .helpers import active, bap, pass_stage

pytestmark = pytest.mark.django_db


def footprint(app):
    """What a refused request must leave as it was."""
    return (AuditEntry.objects.count(), Application.objects.get(pk=app.pk).revision, Document.objects.count(),
            StageReport.objects.count(), list(StageTask.objects.filter(application=app)
                                              .values_list("status", "claimed_by", "report").order_by("id")))


def at_inspection(officers, app):
    for key in ("kelengkapan", "entri", "kajian"):
        pass_stage(officers, app, key)
    return active(app, "tinjau")[0]


@pytest.fixture
def supervisors(agency, make_officer, mall_admin, officers):
    return {"head": officers["dpmptsp:head"],
            "agency_admin": make_officer(agency, role="agency_admin", email="admin.dpmptsp@example.test"),
            "mall_admin": mall_admin}


@pytest.fixture
def colleague(agency, make_officer):
    return make_officer(agency, role="front_office", email="fo2.dpmptsp@example.test")


def api_call(client, token, method, path, data=None):
    """`token`: issued before the footprint is taken (issuing one is an audit entry)."""
    return getattr(client, method)(f"/api/v1{path}", json.dumps(data or {}), content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {token}")


# ---------------------------------------------------------------------------- claims

@pytest.mark.parametrize("who", ["head", "agency_admin", "mall_admin"])
def test_head_agency_admin_and_mall_admin_release_a_claim_and_the_audit_names_whose(submitted, officers, supervisors,
                                                                                   colleague, who):
    fo = officers["dpmptsp:front_office"]
    task = active(submitted)[0]
    services.task_claim(actor=fo, task=task)
    services.task_unclaim(actor=supervisors[who], task=task)
    task.refresh_from_db()
    assert task.claimed_by is None
    entry = AuditEntry.objects.filter(action="application.task_released").get()
    assert entry.changes["released"] == {"user": str(fo.uuid), "name": fo.full_name}
    assert entry.changes["stage"] == "kelengkapan"
    services.task_approve(actor=colleague, task=task)  # the stage moves again
    assert Application.objects.get(pk=submitted.pk).status == Status.IN_PROCESS


def test_nobody_else_releases_a_claim_and_a_refusal_changes_nothing(submitted, officers, colleague, make_officer):
    from satupintu.catalog.models import Agency

    task = active(submitted)[0]
    pupr_head = make_officer(Agency.objects.get(slug="pupr"), role="head", email="head.pupr@example.test")
    services.task_claim(actor=officers["dpmptsp:front_office"], task=task)
    before = footprint(submitted)
    with pytest.raises(Conflict) as exc:  # a colleague of the same stage, while the claimer is active
        services.task_unclaim(actor=colleague, task=task)
    assert exc.value.code == "claimed_by_other"
    for intruder in (officers["dpmptsp:verifier"], pupr_head):  # another role; the head of another agency
        with pytest.raises(Forbidden) as exc:
            services.task_unclaim(actor=intruder, task=task)
        assert exc.value.code == "wrong_role"
    assert footprint(submitted) == before


def test_a_head_releases_only_a_claim_of_their_own_agency(submitted, officers, supervisors, make_officer):
    from satupintu.catalog.models import Agency

    at = at_inspection(officers, submitted)
    pupr = officers["pupr:technical_reviewer"]
    services.task_claim(actor=pupr, task=at)
    with pytest.raises(Forbidden):
        services.task_unclaim(actor=supervisors["head"], task=at)  # head of DPMPTSP, stage of PUPR
    services.task_unclaim(actor=make_officer(Agency.objects.get(slug="pupr"), role="head", email="h.pupr@example.test"),
                          task=at)
    assert StageTask.objects.get(pk=at.pk).claimed_by is None


@pytest.mark.parametrize("gone", ["deactivated", "moved"])
def test_a_claim_of_an_officer_who_can_no_longer_work_the_stage_blocks_nobody(submitted, officers, colleague, gone):
    fo = officers["dpmptsp:front_office"]
    task = active(submitted)[0]
    services.task_claim(actor=fo, task=task)
    if gone == "deactivated":
        User.objects.filter(pk=fo.pk).update(is_active=False)
    else:
        User.objects.filter(pk=fo.pk).update(role="verifier")
    services.task_claim(actor=colleague, task=task)  # taken over, the audit names whose claim it was
    claimed = AuditEntry.objects.filter(action="application.task_claimed").latest("id")
    assert claimed.changes["released"]["name"] == fo.full_name
    StageTask.objects.filter(pk=task.pk).update(claimed_by=fo)  # the old claim again: deciding directly works too
    services.task_approve(actor=colleague, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED and task.claimed_by == colleague and task.decided_by == colleague


def test_release_through_the_api(client, api, submitted, officers, supervisors, colleague):
    task = active(submitted)[0]
    services.task_claim(actor=officers["dpmptsp:front_office"], task=task)
    path = f"/applications/{submitted.uuid}/tasks/{task.id}/unclaim"
    r = api_call(client, api.token(colleague), "post", path)
    assert r.status_code == 409 and r.json()["code"] == "claimed_by_other"
    r = api_call(client, api.token(supervisors["head"]), "post", path)
    assert r.status_code == 200
    assert next(t for t in r.json()["tasks"] if t["id"] == task.id)["claimed_by"] is None


def test_release_on_the_officer_page(client, submitted, officers, supervisors, colleague):
    fo = officers["dpmptsp:front_office"]
    task = active(submitted)[0]
    services.task_claim(actor=fo, task=task)
    url = f"/kantor/permohonan/{submitted.uuid}/"
    client.force_login(colleague)
    page = client.get(url).content.decode()
    assert "Ditangani Petugas front_office" in page and 'value="approve"' not in page and "Lepas klaim" not in page
    for who in ("head", "mall_admin"):
        client.force_login(supervisors[who])
        page = client.get(url).content.decode()
        assert f"Lepas klaim {fo.full_name}" in page, who
    revision = Application.objects.get(pk=submitted.pk).revision
    r = client.post(url, {"action": "unclaim", "task": task.id, "revision": revision}, follow=True)
    assert r.status_code == 200 and f"Tahap yang diambil {fo.full_name} dilepas" in r.content.decode()
    assert StageTask.objects.get(pk=task.pk).claimed_by is None
    # a deactivated claimer: the colleague sees the stage free to take
    services.task_claim(actor=fo, task=task)
    User.objects.filter(pk=fo.pk).update(is_active=False)
    client.force_login(colleague)
    page = client.get(url).content.decode()
    assert 'value="claim"' in page and 'value="approve"' in page and "Anda bisa mengambil alih" in page


# ---------------------------------------------------------------------------- the BAP

def test_an_officer_uploads_only_the_report_type_and_only_while_their_report_stage_runs(submitted, officers):
    pupr = officers["pupr:technical_reviewer"]
    ktp_type, bap_type = DocumentType.objects.get(code="ktp-el"), DocumentType.objects.get(code="bap")
    for key in ("kelengkapan", "entri"):
        pass_stage(officers, submitted, key)
    before = footprint(submitted)
    with pytest.raises(Forbidden) as exc:  # the technical review runs, not the inspection
        services.application_upload(actor=pupr, application=submitted, document_type=bap_type, name="b.pdf", data=PDF)
    assert exc.value.code == "no_report_stage"
    assert footprint(submitted) == before
    pass_stage(officers, submitted, "kajian")
    before = footprint(submitted)
    with pytest.raises(InvalidInput) as exc:
        services.application_upload(actor=pupr, application=submitted, document_type=ktp_type, name="k.pdf", data=PDF)
    assert exc.value.code == "report_type_only"
    with pytest.raises(Forbidden) as exc:  # an officer of the file whose stage takes no report
        services.application_upload(actor=officers["dpmptsp:verifier"], application=submitted, document_type=bap_type,
                                    name="b.pdf", data=PDF)
    assert exc.value.code == "no_report_stage"
    assert footprint(submitted) == before
    doc = bap(pupr, submitted)
    task = active(submitted, "tinjau")[0]
    assert list(StageReport.objects.values_list("task", "document")) == [(task.pk, doc.pk)]
    entry = AuditEntry.objects.filter(action="application.report_uploaded").get()
    assert entry.changes["document"] == str(doc.uuid) and entry.changes["stage"] == "tinjau"


def test_the_applicant_and_the_walk_in_filer_cannot_upload_a_bap(client, api, citizen, pbg, officers):
    """Only an officer's running inspection stage takes a BAP: the applicant on their draft, and
    the front-office officer on the walk-in draft they filed, are refused (service and API), and
    nothing is stored."""
    bap_type = DocumentType.objects.get(code="bap")
    fo = officers["dpmptsp:front_office"]
    own = services.application_create(actor=citizen, service=pbg).application
    walk_in = services.application_create(actor=fo, service=pbg, walk_in={
        "nik": "1401021203880002", "full_name": "Budi Santoso", "phone": "081298765432", "email": ""}).application
    audit_before = AuditEntry.objects.count()
    for actor, app in ((citizen, own), (fo, walk_in)):
        with pytest.raises(InvalidInput) as exc:
            services.application_upload(actor=actor, application=app, document_type=bap_type, name="bap.pdf", data=PDF)
        assert exc.value.code == "report_type_reserved"
        r = client.post(f"/api/v1/applications/{app.uuid}/uploads",
                        {"document_type": "bap", "file": SimpleUploadedFile("bap.pdf", PDF)},
                        HTTP_AUTHORIZATION=f"Bearer {api.token(actor)}")
        assert r.status_code == 400 and r.json()["code"] == "report_type_reserved"
    assert not Document.objects.exists() and StageReport.objects.count() == 0
    assert not AuditEntry.objects.filter(action="document.uploaded").exists()
    # any other type still goes in
    doc = services.application_upload(actor=citizen, application=own, document_type=DocumentType.objects.get(code="ktp-el"),
                                      name="ktp.pdf", data=PDF)
    assert doc.owner == citizen and AuditEntry.objects.count() > audit_before


def test_an_officer_cannot_upload_while_the_file_is_with_the_applicant(submitted, officers):
    task = at_inspection(officers, submitted)
    services.task_return(actor=officers["pupr:technical_reviewer"], task=task, reason="Denah tidak terbaca")
    before = footprint(submitted)
    with pytest.raises(Conflict) as exc:
        bap(officers["pupr:technical_reviewer"], submitted)
    assert exc.value.code == "application_returned" and footprint(submitted) == before


def test_the_report_must_be_a_bap_uploaded_for_this_stage(submitted, officers, citizen, ktp, pbg):
    pupr = officers["pupr:technical_reviewer"]
    task = at_inspection(officers, submitted)
    bap_type = DocumentType.objects.get(code="bap")
    # a BAP in the applicant's own vault (stored before the vault refused the type to anyone but an inspecting officer)
    own = document_upload(actor=citizen, owner=citizen, document_type=DocumentType.objects.get(code="ktp-el"),
                          name="bap-sendiri.pdf", data=PDF)
    Document.objects.filter(pk=own.pk).update(document_type=bap_type)
    own.refresh_from_db()
    other = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg),
                                      documents={pbg.current_version.requirements.get().id: ktp}).application
    at_inspection(officers, other)
    for_other = bap(pupr, other)  # a real BAP, of another application of the same applicant
    before = footprint(submitted)
    for report, code in ((ktp, "report_wrong_type"), (own, "foreign_report"), (for_other, "foreign_report")):
        with pytest.raises(InvalidInput) as exc:
            services.task_approve(actor=pupr, task=task, report=report)
        assert exc.value.code == code, report
    assert footprint(submitted) == before
    services.task_approve(actor=pupr, task=task, report=bap(pupr, submitted))
    assert StageTask.objects.get(pk=task.pk).status == TaskStatus.APPROVED


def test_a_stage_that_takes_no_report_refuses_one(submitted, officers, ktp):
    before = footprint(submitted)
    with pytest.raises(InvalidInput) as exc:
        services.task_approve(actor=officers["dpmptsp:front_office"], task=active(submitted)[0], report=ktp)
    assert exc.value.code == "report_not_expected" and footprint(submitted) == before


def test_the_bap_rules_over_the_api(client, api, submitted, officers, ktp):
    pupr = officers["pupr:technical_reviewer"]
    task = at_inspection(officers, submitted)
    token = api.token(pupr)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    before = footprint(submitted)
    r = client.post(f"/api/v1/applications/{submitted.uuid}/uploads",
                    {"document_type": "ktp-el", "file": SimpleUploadedFile("k.pdf", PDF)}, **auth)
    assert r.status_code == 400 and r.json()["code"] == "report_type_only"
    r = api_call(client, token, "post", f"/applications/{submitted.uuid}/tasks/{task.id}/approve",
                 {"report": str(ktp.uuid)})
    assert r.status_code == 400 and r.json()["code"] == "report_wrong_type"
    assert footprint(submitted) == before
    r = client.post(f"/api/v1/applications/{submitted.uuid}/uploads",
                    {"document_type": "bap", "file": SimpleUploadedFile("bap.pdf", PDF)}, **auth)
    assert r.status_code == 201
    r = api_call(client, token, "post", f"/applications/{submitted.uuid}/tasks/{task.id}/approve",
                 {"report": r.json()["uuid"]})
    assert r.status_code == 200


# ---------------------------------------------------------------------------- reasons

def test_an_over_long_reason_has_its_own_code_and_changes_nothing(submitted, officers, client, api):
    fo = officers["dpmptsp:front_office"]
    task = active(submitted)[0]
    token = api.token(fo)
    before = footprint(submitted)
    with pytest.raises(InvalidInput) as exc:
        services.task_return(actor=fo, task=task, reason="x" * 2001)
    assert exc.value.code == "reason_too_long" and "2000" in exc.value.message
    r = api_call(client, token, "post", f"/applications/{submitted.uuid}/tasks/{task.id}/reject",
                 {"reason": "x" * 2001, "legal_basis": "Pasal 1"})
    assert r.status_code == 400 and r.json()["code"] == "reason_too_long"
    r = api_call(client, token, "post", f"/applications/{submitted.uuid}/tasks/{task.id}/reject",
                 {"reason": "Bukan kewenangan"})
    assert r.status_code == 400 and r.json()["code"] == "legal_basis_missing"
    assert footprint(submitted) == before


def test_a_reason_of_the_full_limit_is_accepted_and_its_notification_cut(submitted, officers):
    """The notification's context takes at most 1,000 characters a value: the reason is cut there
    (the page shows it whole), not the decision refused."""
    from satupintu.notify.models import Notification

    services.task_return(actor=officers["dpmptsp:front_office"], task=active(submitted)[0], reason="x" * 2000)
    app = Application.objects.get(pk=submitted.pk)
    assert app.status == Status.RETURNED and app.return_reason == "x" * 2000
    told = Notification.objects.get(event="application.returned").context["reason"]
    assert len(told) == 1000 and told.endswith("…")
    app = services.application_resubmit(actor=app.applicant, application=app)
    services.task_reject(actor=officers["dpmptsp:front_office"], task=active(app)[0], reason="y" * 2000,
                         legal_basis="z" * 2000)
    assert Application.objects.get(pk=submitted.pk).status == Status.REJECTED
    assert len(Notification.objects.get(event="application.rejected").context["reason"]) == 1000


def test_a_rejection_gives_the_applicant_its_reason_and_legal_basis(client, api, submitted, officers):
    fo = officers["dpmptsp:front_office"]
    task = active(submitted)[0]
    r = api_call(client, api.token(fo), "post", f"/applications/{submitted.uuid}/tasks/{task.id}/reject",
                 {"reason": "Lokasi di jalur hijau", "legal_basis": "Pasal 12 Perda 7/2021"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["reject_reason"] == "Lokasi di jalur hijau\n\nDasar hukum: Pasal 12 Perda 7/2021"
    entry = AuditEntry.objects.filter(action="application.rejected").get()
    assert entry.changes["reason"] == "Lokasi di jalur hijau" and entry.changes["legal_basis"] == "Pasal 12 Perda 7/2021"


# ---------------------------------------------------------------------------- the officer's page

def test_only_officers_and_the_mall_administrator_open_the_officer_page(client, submitted, citizen, officers,
                                                                        mall_admin):
    url = f"/kantor/permohonan/{submitted.uuid}/"
    client.force_login(citizen)  # the applicant: their own file, but not the officers' page
    assert client.get(url).status_code == 404
    task = active(submitted)[0]
    before = footprint(submitted)
    r = client.post(url, {"action": "claim", "task": task.id})
    assert r.status_code == 404 and footprint(submitted) == before
    assert client.get(f"/permohonan/{submitted.uuid}/").status_code == 200  # their own page stays
    for user in (officers["dpmptsp:front_office"], officers["pupr:technical_reviewer"], mall_admin):
        client.force_login(user)
        assert client.get(url).status_code == 200, user


def test_a_refused_decision_keeps_what_the_officer_typed(client, submitted, officers):
    fo = officers["dpmptsp:front_office"]
    task = active(submitted)[0]
    url = f"/kantor/permohonan/{submitted.uuid}/"
    client.force_login(fo)
    stale = Application.objects.get(pk=submitted.pk).revision
    services.task_claim(actor=fo, task=task)  # the page changed since the form was opened
    before = footprint(submitted)
    r = client.post(url, {"action": "return", "task": task.id, "revision": stale, "reason": "Foto KTP buram & terpotong"})
    assert r.status_code == 409 and "Foto KTP buram &amp; terpotong</textarea>" in r.content.decode()
    r = client.post(url, {"action": "approve", "task": task.id, "revision": stale, "note": "Lengkap, cek ulang NIB"})
    assert r.status_code == 409 and "Lengkap, cek ulang NIB</textarea>" in r.content.decode()
    r = client.post(url, {"action": "reject", "task": task.id, "revision": stale, "confirm": "yes",
                          "reason": "Bukan kewenangan", "legal_basis": "Pasal 5 ayat 2"})
    page = r.content.decode()
    assert r.status_code == 409 and "Bukan kewenangan</textarea>" in page and "Pasal 5 ayat 2</textarea>" in page
    assert page.count("Bukan kewenangan</textarea>") == 1  # only in the form it was typed into
    assert footprint(submitted) == before


def test_a_bad_bap_file_keeps_the_note_and_stores_nothing(client, submitted, officers):
    pupr = officers["pupr:technical_reviewer"]
    task = at_inspection(officers, submitted)
    client.force_login(pupr)
    before = footprint(submitted)
    r = client.post(f"/kantor/permohonan/{submitted.uuid}/",
                    {"action": "approve", "task": task.id, "note": "Sesuai gambar",
                     "report": SimpleUploadedFile("bap.pdf", b"<html>bukan pdf</html>")})
    page = r.content.decode()
    assert r.status_code == 400 and "Sesuai gambar</textarea>" in page and "pilih berkasnya lagi" in page
    assert footprint(submitted) == before


def test_reject_has_its_own_confirmed_form(client, submitted, officers):
    fo = officers["dpmptsp:front_office"]
    task = active(submitted)[0]
    url = f"/kantor/permohonan/{submitted.uuid}/"
    client.force_login(fo)
    page = client.get(url).content.decode()
    assert 'name="legal_basis"' in page and 'name="confirm" value="yes" required' in page and "btn-danger" in page
    revision = Application.objects.get(pk=submitted.pk).revision
    data = {"action": "reject", "task": task.id, "revision": revision, "reason": "Lokasi di jalur hijau",
            "legal_basis": "Pasal 12 Perda 7/2021"}
    before = footprint(submitted)
    r = client.post(url, data)  # no confirmation: refused, and what was typed stays
    assert r.status_code == 400 and "Saya yakin menolak permohonan ini" in r.content.decode()
    assert "Lokasi di jalur hijau</textarea>" in r.content.decode() and footprint(submitted) == before
    r = client.post(url, {**data, "legal_basis": "", "confirm": "yes"})
    assert r.status_code == 400 and footprint(submitted) == before
    r = client.post(url, {**data, "confirm": "yes"})
    assert r.status_code == 302
    app = Application.objects.get(pk=submitted.pk)
    assert app.status == Status.REJECTED and "Pasal 12 Perda 7/2021" in app.reject_reason


def test_officer_page_query_count(client, submitted, officers, supervisors, django_assert_max_num_queries):
    task = at_inspection(officers, submitted)
    services.task_claim(actor=officers["pupr:technical_reviewer"], task=task)
    url = f"/kantor/permohonan/{submitted.uuid}/"
    for user in (officers["pupr:technical_reviewer"], supervisors["mall_admin"]):
        client.force_login(user)
        client.get(url)  # the site's calendar is read once per process
        # session, user, application, its stages (with their claimers), attachments, requirements,
        # closures, history, site, unread notifications: the same for every number of stages
        with django_assert_max_num_queries(10):
            r = client.get(url)
        assert r.status_code == 200 and ('value="approve"' in r.content.decode()) == (user.role != "mall_admin")
