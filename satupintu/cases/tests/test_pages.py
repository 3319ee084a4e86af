"""The pages: apply from the service page, fill and submit the draft, Permohonan Saya, the
officer's inbox and decision forms, walk-in filing, and public tracking."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from satupintu.catalog.selectors import filing_catalogue
from satupintu.cases.models import Application, StageTask, Status
from satupintu.vault.models import Document

from .factories import PDF
from .helpers import active

pytestmark = pytest.mark.django_db


def test_citizen_applies_reusing_a_stored_document(client, citizen, pbg, ktp, officers):
    client.force_login(citizen)
    r = client.post(f"/layanan/dpmptsp/pbg/ajukan/")
    app = Application.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/permohonan/{app.uuid}/"
    page = client.get(r["Location"])
    assert page.status_code == 200 and ktp.original_name.encode() in page.content  # offered for reuse
    req = pbg.current_version.requirements.get()
    r = client.post(r["Location"], {"action": "attach", f"document-{req.id}": str(ktp.uuid)})
    assert r.status_code == 302 and app.attachments.get().document == ktp
    r = client.post(f"/permohonan/{app.uuid}/", {"action": "submit", "revision": Application.objects.get().revision})
    app.refresh_from_db()
    assert r.status_code == 302 and app.status == Status.SUBMITTED
    mine = client.get("/permohonan/")
    assert app.tracking_number.encode() in mine.content
    assert Document.objects.count() == 1  # nothing uploaded twice


def test_submitting_without_documents_is_400_with_the_missing_list(client, citizen, pbg, officers):
    client.force_login(citizen)
    client.post("/layanan/dpmptsp/pbg/ajukan/")
    app = Application.objects.get()
    r = client.post(f"/permohonan/{app.uuid}/", {"action": "submit"})
    assert r.status_code == 400 and "KTP-el".encode() in r.content
    assert Application.objects.get().status == Status.DRAFT


def test_upload_of_a_fake_pdf_is_refused_on_the_page(client, citizen, pbg, officers):
    client.force_login(citizen)
    client.post("/layanan/dpmptsp/pbg/ajukan/")
    app = Application.objects.get()
    req = pbg.current_version.requirements.get()
    r = client.post(f"/permohonan/{app.uuid}/", {"action": "attach",
                                                 f"file-{req.id}": SimpleUploadedFile("ktp.pdf", b"<?php echo 1; ?>")})
    assert r.status_code == 400 and not Document.objects.exists() and not app.attachments.exists()
    r = client.post(f"/permohonan/{app.uuid}/", {"action": "attach", f"valid_until-{req.id}": "31-12-2030",
                                                 f"file-{req.id}": SimpleUploadedFile("ktp.pdf", PDF)})
    assert r.status_code == 400 and not Document.objects.exists()


def test_anonymous_apply_goes_to_login_and_back(client, pbg):
    r = client.post("/layanan/dpmptsp/pbg/ajukan/")
    assert r.status_code == 302 and "/akun/masuk/" in r["Location"] and "layanan/dpmptsp/pbg/" in r["Location"]


def test_officer_inbox_and_decision_forms(client, submitted, officers):
    fo = officers["dpmptsp:front_office"]
    client.force_login(fo)
    r = client.get("/kantor/")
    assert r.status_code == 200 and submitted.tracking_number.encode() in r.content
    page = client.get(f"/kantor/permohonan/{submitted.uuid}/")
    assert page.status_code == 200 and b'value="approve"' in page.content
    task = active(submitted)[0]
    r = client.post(f"/kantor/permohonan/{submitted.uuid}/", {"action": "reject", "task": task.id, "reason": "",
                                                               "legal_basis": "Pasal 1", "confirm": "yes"})
    assert r.status_code == 400 and Application.objects.get().status == Status.SUBMITTED
    # a revision that is not a number is refused, not silently skipped (it guards against stale forms)
    r = client.post(f"/kantor/permohonan/{submitted.uuid}/", {"action": "approve", "task": task.id, "revision": "abc"})
    assert r.status_code == 400 and Application.objects.get().status == Status.SUBMITTED
    r = client.post(f"/kantor/permohonan/{submitted.uuid}/", {"action": "approve", "task": task.id,
                                                               "revision": Application.objects.get().revision})
    assert r.status_code == 302 and Application.objects.get().status == Status.IN_PROCESS
    stale = client.post(f"/kantor/permohonan/{submitted.uuid}/", {"action": "approve", "task": task.id, "revision": 0})
    assert stale.status_code == 409


def test_field_inspection_report_is_uploaded_with_the_decision(client, submitted, officers):
    from .helpers import pass_stage

    for key in ("kelengkapan", "entri", "kajian"):
        pass_stage(officers, submitted, key)
    task = active(submitted, "tinjau")[0]
    client.force_login(officers["pupr:technical_reviewer"])
    r = client.post(f"/kantor/permohonan/{submitted.uuid}/", {"action": "approve", "task": task.id,
                                                               "report": SimpleUploadedFile("bap.pdf", PDF)})
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.status == "approved" and task.report.document_type.code == "bap" and task.report.owner == submitted.applicant


def test_inbox_page_query_count(client, citizen, pbg, ktp, officers, django_assert_max_num_queries):
    from satupintu.cases import services

    req = pbg.current_version.requirements.get().id
    for _ in range(25):
        services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp})
    client.force_login(officers["dpmptsp:front_office"])
    with django_assert_max_num_queries(14):
        r = client.get("/kantor/")
    assert r.status_code == 200 and r.content.count(b"/kantor/permohonan/") >= 20


def test_my_applications_page_query_count(client, citizen, pbg, ktp, officers, django_assert_max_num_queries):
    from satupintu.cases import services

    req = pbg.current_version.requirements.get().id
    for _ in range(25):
        services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp})
    client.force_login(citizen)
    with django_assert_max_num_queries(6):
        r = client.get("/permohonan/")
    assert r.status_code == 200 and r.content.count(b'href="/permohonan/') >= 20


def test_mall_admin_inbox_puts_overdue_first(client, submitted, mall_admin, officers, monkeypatch, citizen, pbg, ktp):
    from datetime import timedelta

    from satupintu.cases import services

    fresh = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={pbg.current_version.requirements.get().id: ktp}).application
    StageTask.objects.filter(application=submitted).update(due_on=active(fresh)[0].due_on - timedelta(days=30))
    client.force_login(mall_admin)
    body = client.get("/kantor/").content.decode()
    assert body.index(submitted.tracking_number) < body.index(fresh.tracking_number)


def test_walk_in_filing_creates_an_account_and_a_draft(client, agency, pbg, officers):
    from satupintu.identity.models import User

    client.force_login(officers["dpmptsp:front_office"])
    r = client.post("/kantor/permohonan/baru/", {"nik": "1401021203880002", "full_name": "Budi Santoso",
                                                 "phone": "081298765432", "service": str(pbg.uuid)})
    app = Application.objects.get()
    assert r.status_code == 302 and app.channel == "walk_in" and app.filed_by == officers["dpmptsp:front_office"]
    budi = User.objects.get(citizen__nik="1401021203880002")
    assert app.applicant == budi and not budi.has_usable_password()
    bad = client.post("/kantor/permohonan/baru/", {"nik": "123", "service": str(pbg.uuid)})
    assert bad.status_code == 400 and Application.objects.count() == 1


def test_public_tracking_page(client, submitted):
    r = client.get("/lacak/", {"number": submitted.tracking_number, "birth_date": "1995-08-12"})
    assert r.status_code == 200 and b"Pemeriksaan kelengkapan" in r.content and b"Siti" not in r.content
    typo = submitted.tracking_number[:-1] + ("0" if submitted.tracking_number[-1] != "0" else "1")
    r = client.get("/lacak/", {"number": typo, "birth_date": "1995-08-12"})
    assert r.status_code == 400


def test_counter_officer_opens_an_application_from_the_ticket_served(client, agency, pbg, officers):
    from satupintu.catalog.tests.factories import SYSTEM
    from satupintu.queueing import services as queue

    fo = officers["dpmptsp:front_office"]
    group = queue.queue_group_create(actor=SYSTEM, agency=agency, prefix="P", name="Perizinan", services=[pbg])
    ticket = queue.ticket_issue(actor=None, group=group, service=pbg, nik="1401021203880002", phone="081298765432")
    counter = agency.counters.first()
    queue.counter_open(actor=fo, counter=counter, groups=[group])
    queue.ticket_call_next(actor=fo, counter=counter)
    queue.ticket_start(actor=fo, ticket=ticket)
    client.force_login(fo)
    panel = client.get(f"/antrian/loket/{counter.code}/").content.decode()
    assert f"/kantor/permohonan/baru/?ticket={ticket.code}" in panel
    form = client.get(f"/kantor/permohonan/baru/?ticket={ticket.code}").content.decode()
    assert 'value="1401021203880002"' in form and f'value="{pbg.uuid}" selected' in form
    r = client.post("/kantor/permohonan/baru/", {"nik": "1401021203880002", "full_name": "Budi", "phone": "081298765432",
                                                 "service": str(pbg.uuid), "ticket": ticket.code})
    app = Application.objects.get()
    assert r.status_code == 302 and app.ticket == ticket and app.channel == "walk_in"


def test_a_page_number_that_is_not_a_number_is_a_400(client, officers):
    client.force_login(officers["dpmptsp:front_office"])
    assert client.get("/kantor/", {"page": "abc"}).status_code == 400
    assert client.get("/kantor/", {"page": ""}).status_code == 200
