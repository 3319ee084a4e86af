"""The applicant's draft page (/permohonan/<uuid>/): nothing typed is lost when a button is
refused or when another button than "Simpan" is pressed; one draft per service from the service
page; wording for a returned file and for the officer who filed a walk-in draft; how errors look."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from satupintu.cases import services
from satupintu.cases.models import Application, Status
from satupintu.core.models import AuditEntry
from satupintu.vault.models import Document

from .factories import PDF
from .helpers import active

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(citizen, pbg):
    from satupintu.catalog.selectors import service_get

    return services.application_create(actor=citizen, service=service_get(actor=citizen, key="pbg", agency_slug="dpmptsp")).application


def url(app):
    return f"/permohonan/{app.uuid}/"


def typed(**more):
    return {"applicant_type": "badan_usaha", "business_name": "CV Maju Jaya", "nib": "12ab", "npwp": "",
            "notes": "Rumah dua lantai", **more}


def test_a_refused_save_shows_what_was_typed_with_the_error_next_to_the_field(client, citizen, draft):
    client.force_login(citizen)
    r = client.post(url(draft), {"action": "save", "revision": draft.revision, **typed()})
    body = r.content.decode()
    assert r.status_code == 400
    assert re.search(r'value="badan_usaha" checked', body) and not re.search(r'value="perorangan" checked', body)
    assert 'value="CV Maju Jaya"' in body and 'value="12ab"' in body and ">Rumah dua lantai</textarea>" in body
    # the field's own error, tied to it for screen readers; the page-level error is an alert
    assert 'aria-invalid="true" aria-describedby="nib-error"' in body
    assert '<p class="field-error" id="nib-error">NIB terdiri dari 13 angka.</p>' in body
    assert re.search(r'<div class="messages" role="alert"><p class="msg msg-error">.*Gagal:</strong> Data permohonan belum benar', body)
    stored = Application.objects.get()
    assert (stored.applicant_type, stored.notes, stored.revision) == ("perorangan", "", draft.revision)


def test_successful_messages_are_a_status_not_an_alert(client, citizen, draft):
    client.force_login(citizen)
    r = client.post(url(draft), {"action": "save", "revision": draft.revision, **typed(nib="1234567890123")},
                    follow=True)
    body = r.content.decode()
    assert '<div class="messages" role="status"><p class="msg msg-success">Perubahan disimpan.</p>' in body
    assert 'role="alert"' not in body
    assert Application.objects.get().nib == "1234567890123"


def test_attaching_keeps_the_fields_typed_but_not_saved(client, citizen, draft, pbg, ktp):
    req = pbg.current_version.requirements.get()
    client.force_login(citizen)
    r = client.post(url(draft), {"action": "attach", "revision": draft.revision, f"document-{req.id}": str(ktp.uuid),
                                 **typed(nib="1234567890123")})
    app = Application.objects.get()
    assert r.status_code == 302
    assert (app.applicant_type, app.business_name, app.notes) == ("badan_usaha", "CV Maju Jaya", "Rumah dua lantai")
    assert app.attachments.get().document == ktp


def test_submitting_keeps_the_fields_and_the_file_chosen_and_files_it(client, citizen, draft, pbg, officers):
    req = pbg.current_version.requirements.get()
    client.force_login(citizen)
    r = client.post(url(draft), {"action": "submit", "revision": draft.revision,
                                 f"file-{req.id}": SimpleUploadedFile("ktp.pdf", PDF),
                                 **typed(nib="1234567890123")}, follow=True)
    app = Application.objects.get()
    assert app.status == Status.SUBMITTED and app.notes == "Rumah dua lantai" and app.nib == "1234567890123"
    assert app.attachments.get().document.original_name == "ktp.pdf"
    assert f"Nomor registrasi Anda: {app.tracking_number}" in r.content.decode()


def test_a_refused_submission_keeps_what_was_typed_and_stores_nothing(client, citizen, draft, pbg, ktp):
    client.force_login(citizen)
    # badan usaha without the NIB: refused at submission, with the error next to the NIB field
    r = client.post(url(draft), {"action": "submit", "revision": draft.revision, **typed(nib="")})
    body = r.content.decode()
    assert r.status_code == 400 and 'value="CV Maju Jaya"' in body and ">Rumah dua lantai</textarea>" in body
    assert 'id="nib-error">NIB wajib diisi untuk pemohon badan usaha.</p>' in body
    assert "Dokumen wajib belum dilampirkan" in body  # not a field: a message
    app = Application.objects.get()
    assert app.status == Status.DRAFT and app.business_name == "" and app.revision == draft.revision


def test_an_unchanged_form_writes_nothing_for_its_fields(client, citizen, draft, pbg, ktp):
    req = pbg.current_version.requirements.get()
    client.force_login(citizen)
    unchanged = {k: getattr(draft, k) for k in ("applicant_type", "business_name", "nib", "npwp", "notes")}
    client.post(url(draft), {"action": "attach", "revision": draft.revision, f"document-{req.id}": str(ktp.uuid), **unchanged})
    assert not AuditEntry.objects.filter(action="application.updated").exists()
    assert AuditEntry.objects.filter(action="application.document_attached").count() == 1
    # the same document again: nothing new to attach, said so
    r = client.post(url(draft), {"action": "attach", f"document-{req.id}": str(ktp.uuid), **unchanged})
    assert r.status_code == 400 and "Pilih dokumen yang tersimpan atau unggah berkas." in r.content.decode()
    assert AuditEntry.objects.filter(action="application.document_attached").count() == 1


def test_a_stale_form_keeps_what_was_typed(client, citizen, draft):
    client.force_login(citizen)
    r = client.post(url(draft), {"action": "save", "revision": draft.revision - 1, **typed(nib="1234567890123")})
    assert r.status_code == 409 and 'value="CV Maju Jaya"' in r.content.decode()


@pytest.mark.parametrize("action", ["attach", "submit"])
def test_a_page_drawn_before_another_change_does_not_put_back_its_old_choice(client, citizen, draft, pbg, ktp, action):
    """Tab 1 shows document A attached; tab 2 (or the counter) attaches B. Tab 1's form still
    names A for the requirement: it is refused as out of date, not attached again (or filed)."""
    req = pbg.current_version.requirements.get()
    services.application_attach(actor=citizen, application=draft, requirement=req, document=ktp)
    drawn = Application.objects.get().revision
    newer = Document.objects.create(owner=citizen, document_type=ktp.document_type, original_name="ktp-baru.pdf",
                                    content_type="application/pdf", size=ktp.size, sha256=ktp.sha256, file=ktp.file.name,
                                    uploaded_by=citizen)
    services.application_attach(actor=citizen, application=Application.objects.get(), requirement=req, document=newer)
    client.force_login(citizen)
    unchanged = {k: getattr(draft, k) for k in ("applicant_type", "business_name", "nib", "npwp", "notes")}
    r = client.post(url(draft), {"action": action, "revision": drawn, f"document-{req.id}": str(ktp.uuid), **unchanged})
    assert r.status_code == 409
    app = Application.objects.get()
    assert app.status == Status.DRAFT and app.attachments.get().document == newer


def test_apply_twice_goes_back_to_the_draft_already_begun(client, citizen, pbg):
    client.force_login(citizen)
    first = client.post("/layanan/dpmptsp/pbg/ajukan/")
    again = client.post("/layanan/dpmptsp/pbg/ajukan/", follow=True)
    app = Application.objects.get()
    assert first["Location"] == again.redirect_chain[-1][0] == url(app)
    assert "Anda sudah punya draf permohonan layanan ini" in again.content.decode()
    # once it is filed, the next tap starts a new one
    Application.objects.update(status=Status.SUBMITTED, tracking_number="X")
    client.post("/layanan/dpmptsp/pbg/ajukan/")
    assert Application.objects.count() == 2


def test_reuse_draft_gives_back_the_citizens_draft_of_the_service(citizen, pbg, officers):
    """`reuse_draft` (the service page's button): the citizen's draft of the service, with no new
    row and no audit entry; without it, or for an officer filing walk-ins, a new draft as before."""
    first = services.application_create(actor=citizen, service=pbg, reuse_draft=True)
    assert first.created and first.application.status == Status.DRAFT
    audit_before = AuditEntry.objects.count()
    again = services.application_create(actor=citizen, service=pbg, reuse_draft=True)
    assert (again.application.pk, again.created) == (first.application.pk, False)
    assert Application.objects.count() == 1 and AuditEntry.objects.count() == audit_before
    # the API's drafts: several are allowed
    other = services.application_create(actor=citizen, service=pbg)
    assert other.created and Application.objects.count() == 2
    # an officer's walk-in drafts are not reused
    fo = officers["dpmptsp:front_office"]
    walk_in = {"nik": "1401021203880002", "full_name": "Budi Santoso", "phone": "081298765432", "email": ""}
    made = [services.application_create(actor=fo, service=pbg, walk_in=dict(walk_in), reuse_draft=True) for _i in range(2)]
    assert all(d.created for d in made) and made[0].application.pk != made[1].application.pk
    # a filed draft is no longer one: the next tap begins a new one
    Application.objects.filter(filed_by=citizen).update(status=Status.SUBMITTED, tracking_number=None)
    assert services.application_create(actor=citizen, service=pbg, reuse_draft=True).created


def test_the_service_page_leads_a_citizen_back_to_their_draft(client, citizen, pbg, officers):
    """With a draft of the service begun, the page offers "Lanjutkan draf permohonan" (with the
    day it was begun) instead of "Ajukan permohonan daring": one read more, for citizens only;
    anonymous visitors and officers see the page as before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.formats import date_format
    from django.utils.timezone import localtime

    def service_page():
        with CaptureQueriesContext(connection) as captured:
            r = client.get("/layanan/dpmptsp/pbg/")
        assert r.status_code == 200
        return r.content.decode(), [q["sql"] for q in captured.captured_queries if '"cases_application"' in q["sql"]]

    html, reads = service_page()  # anonymous
    assert "Ajukan permohonan daring" in html and "Lanjutkan draf" not in html and reads == []
    client.force_login(citizen)
    html, reads = service_page()  # no draft yet
    assert "Ajukan permohonan daring" in html and "Lanjutkan draf" not in html and len(reads) == 1
    app = services.application_create(actor=citizen, service=pbg).application
    html, reads = service_page()
    assert len(reads) == 1
    assert "Ajukan permohonan daring" not in html and 'action="/layanan/dpmptsp/pbg/ajukan/"' not in html
    assert f'href="{url(app)}">Lanjutkan draf permohonan</a>' in html
    made = date_format(localtime(app.created_at), "j M Y H:i")
    assert f"Anda sudah punya draf permohonan layanan ini (dibuat {made})." in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html, _reads = service_page()
    assert "Continue the draft application</a>" in html and "You already have a draft application" in html
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    # an officer, the one who files walk-in drafts of this service too, sees the button and costs no read
    fo = officers["dpmptsp:front_office"]
    services.application_create(actor=fo, service=pbg, walk_in={
        "nik": "1401021203880002", "full_name": "Budi Santoso", "phone": "081298765432", "email": ""})
    client.force_login(fo)
    html, reads = service_page()
    assert "Ajukan permohonan daring" in html and "Lanjutkan draf" not in html and reads == []
    # once the draft is filed, the citizen gets the button again
    Application.objects.filter(pk=app.pk).update(status=Status.SUBMITTED, tracking_number="X")
    client.force_login(citizen)
    html, _reads = service_page()
    assert "Ajukan permohonan daring" in html and "Lanjutkan draf" not in html


def test_my_applications_says_when_each_one_was_made(client, citizen, draft):
    from django.utils.formats import date_format
    from django.utils.timezone import localtime

    client.force_login(citizen)
    body = client.get("/permohonan/").content.decode()
    assert f"dibuat <time datetime=" in body and date_format(localtime(draft.created_at), "j M Y H:i") in body


def test_draft_and_returned_wording(client, submitted, citizen, officers):
    client.force_login(citizen)
    task = active(submitted)[0]
    services.task_return(actor=officers["dpmptsp:front_office"], task=task, reason="Foto KTP buram")
    body = client.get(url(submitted)).content.decode()
    assert "Simpan perubahan" in body and "Simpan draf" not in body and "Hapus draf" not in body
    assert "permohonan daring" in body and "diajukan daring" not in body


def test_deleting_a_draft_asks_first(client, citizen, draft):
    client.force_login(citizen)
    body = client.get(url(draft)).content.decode()
    # the delete button sits inside a closed <details>: a first tap opens it, the second deletes
    assert re.search(r'<details class="confirm">\s*<summary class="btn btn-light">Hapus draf</summary>', body)
    assert body.index("<details") < body.index('value="delete"') < body.index("</details>")
    r = client.post(url(draft), {"action": "delete"})
    assert r.status_code == 302 and r["Location"] == "/permohonan/" and not Application.objects.exists()


def test_the_officer_who_filed_a_walk_in_draft_is_led_back_to_the_inbox(client, pbg, officers, ktp):
    fo = officers["dpmptsp:front_office"]
    client.force_login(fo)
    r = client.post("/kantor/permohonan/baru/", {"nik": "1401021203880002", "full_name": "Budi Santoso",
                                                 "phone": "081298765432", "service": str(pbg.uuid)})
    app = Application.objects.get()
    body = client.get(r["Location"]).content.decode()
    crumbs = re.search(r'<nav class="crumbs".*?</nav>', body).group(0)
    assert 'href="/kantor/"' in crumbs and "Kotak masuk" in crumbs and "Permohonan Saya" not in crumbs
    assert "atas nama Budi Santoso" in body
    # the inbox lists it as a draft still to finish
    inbox = client.get("/kantor/").content.decode()
    assert "Draf loket yang belum diajukan" in inbox and f'href="{url(app)}"' in inbox
    # filed with the visitor's KTP uploaded at the counter: the applicant's number, not "yours"
    req = pbg.current_version.requirements.get()
    r = client.post(url(app), {"action": "submit", "revision": app.revision,
                               f"file-{req.id}": SimpleUploadedFile("ktp.pdf", PDF)}, follow=True)
    app.refresh_from_db()
    body = r.content.decode()
    assert app.status == Status.SUBMITTED and f"Nomor registrasi pemohon: {app.tracking_number}" in body
    assert "Nomor registrasi Anda" not in body
    inbox = client.get("/kantor/")
    assert inbox.status_code == 200 and "Kotak masuk" in inbox.content.decode()
    assert f'href="{url(app)}"' not in inbox.content.decode()  # no longer a draft to finish
    assert Document.objects.filter(owner=app.applicant).count() == 1


def test_a_walk_in_draft_deleted_by_its_officer_goes_back_to_the_inbox(client, pbg, officers):
    client.force_login(officers["dpmptsp:front_office"])
    client.post("/kantor/permohonan/baru/", {"nik": "1401021203880002", "full_name": "Budi", "phone": "081298765432",
                                             "service": str(pbg.uuid)})
    r = client.post(url(Application.objects.get()), {"action": "delete"})
    assert r.status_code == 302 and r["Location"] == "/kantor/"


def test_inbox_with_walk_in_drafts_query_count(client, agency, pbg, officers, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from satupintu.catalog.selectors import service_get

    fo, other = officers["dpmptsp:front_office"], officers["dpmptsp:verifier"]
    service = service_get(actor=fo, key="pbg", agency_slug="dpmptsp")

    def walk_in(i):
        services.application_create(actor=fo, service=service, walk_in={
            "nik": f"14010212038800{i + 10:02d}", "full_name": f"Warga {i}", "phone": f"0812987654{i + 10:02d}", "email": ""})

    client.force_login(fo)
    walk_in(0)
    with CaptureQueriesContext(connection) as one:
        client.get("/kantor/")
    for i in range(1, 12):
        walk_in(i)
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as twelve:
        r = client.get("/kantor/")
    assert len(twelve) == len(one)  # one read for the list, however long
    assert r.status_code == 200 and r.content.decode().count('href="/permohonan/') == 12
    client.force_login(other)  # another officer's drafts are not theirs to finish
    inbox = client.get("/kantor/")
    assert inbox.status_code == 200 and 'href="/permohonan/' not in inbox.content.decode()


def test_english_names_one_service_in_the_singular(client, pbg, officers):
    client.force_login(officers["dpmptsp:front_office"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/kantor/"})
    body = client.get("/kantor/permohonan/baru/").content.decode()
    assert '<label for="service">Service</label>' in body
    r = client.post("/kantor/permohonan/baru/", {"nik": "1401021203880002", "full_name": "Budi", "phone": "081298765432",
                                                 "service": str(pbg.uuid)})
    assert '<th scope="col">Service</th>' in client.get("/kantor/").content.decode()
    body = client.get(r["Location"]).content.decode()
    assert "on behalf of Budi" in body and "online application" not in body and "application at the counter" in body


def test_the_officer_page_says_when_the_deadline_started_counting(client, submitted, officers):
    client.force_login(officers["dpmptsp:front_office"])
    body = client.get(f"/kantor/permohonan/{submitted.uuid}/").content.decode()
    assert "Tenggat mulai dihitung" in body and "Jam SLA" not in body


def test_a_form_whose_data_cleans_to_what_is_stored_says_nothing_was_saved(client, citizen, pbg):
    from satupintu.cases import services

    app = services.application_create(actor=citizen, service=pbg).application
    services.application_update(actor=citizen, application=app, notes="Rumah tinggal")
    app.refresh_from_db()
    client.force_login(citizen)
    r = client.post(url(app), {"action": "save", "revision": app.revision, "notes": "  Rumah tinggal  "}, follow=True)
    body = r.content.decode()
    assert "Perubahan disimpan" not in body and "Tidak ada perubahan untuk disimpan" in body
    assert Application.objects.get(pk=app.pk).revision == app.revision
