"""The vault: files checked by content, kept outside the web root, offered again while valid,
opened only by the owner and by officers working on an application that uses them (logged)."""

from datetime import date, timedelta

import pytest
from django.conf import settings

from satupintu.catalog.models import DocumentType
from satupintu.core.errors import Forbidden, InvalidInput
from satupintu.core.models import AuditEntry
from satupintu.vault import selectors, services
from satupintu.vault.models import Document

from satupintu.cases.tests.factories import PDF, PNG

pytestmark = pytest.mark.django_db


def ktp_type():
    return DocumentType.objects.get(code="ktp-el")


def test_stored_outside_static_and_media_with_a_sanitised_name(citizen, site):
    doc = services.document_upload(actor=citizen, owner=citizen, document_type=ktp_type(), name="../../etc/passwd.png", data=PNG)
    assert doc.content_type == "image/png" and doc.original_name == "passwd.png"
    path = doc.file.path
    assert path.startswith(str(settings.SATUPINTU_VAULT_DIR)) and "passwd" not in path
    assert not path.startswith(str(settings.STATIC_ROOT or "/nonexistent"))


@pytest.mark.parametrize("data, code", [(b"", "file_empty"), (b"GIF89a....", "file_type"), (b"<html>%PDF-", "file_type")])
def test_bad_files_are_refused_and_nothing_is_kept(citizen, site, data, code):
    with pytest.raises(InvalidInput) as exc:
        services.document_upload(actor=citizen, owner=citizen, document_type=ktp_type(), name="ktp.pdf", data=data)
    assert exc.value.code == code
    assert Document.objects.count() == 0
    folder = settings.SATUPINTU_VAULT_DIR
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def test_size_limit_is_configurable(citizen, site, settings):
    settings.SATUPINTU_VAULT_MAX_BYTES = 10
    with pytest.raises(InvalidInput) as exc:
        services.document_upload(actor=citizen, owner=citizen, document_type=ktp_type(), name="ktp.pdf", data=PDF)
    assert exc.value.code == "file_too_large"


def test_nobody_uploads_into_someone_elses_vault(citizen, site, agency, make_officer):
    officer = make_officer(agency, role="front_office")
    with pytest.raises(Forbidden):
        services.document_upload(actor=officer, owner=citizen, document_type=ktp_type(), name="ktp.pdf", data=PDF)


def test_expired_documents_are_not_offered(citizen, site):
    old = services.document_upload(actor=citizen, owner=citizen, document_type=ktp_type(), name="a.pdf", data=PDF,
                                   valid_until=date.today() + timedelta(days=1))
    Document.objects.filter(pk=old.pk).update(valid_until=date.today() - timedelta(days=1))
    fresh = services.document_upload(actor=citizen, owner=citizen, document_type=ktp_type(), name="b.pdf", data=PDF)
    offered = selectors.documents_offered(owner=citizen, type_ids=[ktp_type().id])
    assert offered[ktp_type().id] == [fresh]


def test_owner_downloads_without_a_log_entry_officer_view_is_logged(client, submitted, ktp, citizen, officers):
    client.force_login(citizen)
    r = client.get(f"/dokumen/{ktp.uuid}/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["Content-Type"] == "application/pdf" and r["X-Content-Type-Options"] == "nosniff"
    assert not AuditEntry.objects.filter(action="document.viewed").exists()
    client.force_login(officers["pupr:technical_reviewer"])  # PUPR has a (later) stage in this PBG file
    assert client.get(f"/dokumen/{ktp.uuid}/").status_code == 200
    entry = AuditEntry.objects.get(action="document.viewed")
    assert entry.object_id == str(ktp.uuid) and entry.changes["owner"] == str(citizen.uuid)
    client.force_login(citizen)  # the owner sees who opened it
    page = client.get("/dokumen/").content.decode()
    assert officers["pupr:technical_reviewer"].full_name in page and "(PUPR)" in page


def test_my_documents_page_lists_and_uploads(client, citizen, site, django_assert_max_num_queries):
    from django.core.files.uploadedfile import SimpleUploadedFile

    for i in range(25):
        services.document_upload(actor=citizen, owner=citizen, document_type=ktp_type(), name=f"{i}.pdf", data=PDF)
    client.force_login(citizen)
    with django_assert_max_num_queries(12):
        r = client.get("/dokumen/")
    assert r.status_code == 200 and r.content.count(b'.pdf</a>') == 20
    r = client.post("/dokumen/", {"document_type": "ktp-el", "file": SimpleUploadedFile("x.pdf", b"nope")})
    assert r.status_code == 400 and Document.objects.count() == 25
    r = client.post("/dokumen/", {"document_type": "ktp-el", "file": SimpleUploadedFile("x.pdf", PDF)})
    assert r.status_code == 302 and Document.objects.count() == 26


def test_document_list_api_query_count(client, api, citizen, site, django_assert_max_num_queries):
    for i in range(25):
        services.document_upload(actor=citizen, owner=citizen, document_type=ktp_type(), name=f"{i}.pdf", data=PDF)
    token = api.token(citizen)
    with django_assert_max_num_queries(6):
        r = client.get("/api/v1/documents", {"page_size": 25}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.json()["count"] == 25 and len(r.json()["items"]) == 25


def test_the_sweep_removes_files_a_refused_decision_left_and_keeps_stored_ones(client, submitted, officers, settings,
                                                                               ktp, capsys, monkeypatch):
    """A BAP upload followed by a refused decision rolls its row back but not its file: the sweep
    (cron, `manage.py vault_sweep`) removes what no document names, and nothing else."""
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from satupintu.cases.tests.helpers import active, pass_stage
    from satupintu.core.permissions import SystemActor
    from satupintu.vault import services as vault_services

    for key in ("kelengkapan", "entri", "kajian"):
        pass_stage(officers, submitted, key)
    task = active(submitted, "tinjau")[0]
    client.force_login(officers["pupr:technical_reviewer"])
    r = client.post(f"/kantor/permohonan/{submitted.uuid}/", {"action": "approve", "task": task.id, "revision": 0,
                                                               "report": SimpleUploadedFile("bap.pdf", PDF)})
    assert r.status_code == 409  # stale form: nothing decided, no BAP row
    root = Path(settings.SATUPINTU_VAULT_DIR)
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert ktp.file.name in files and len(files) == 2 and Document.objects.count() == 1
    assert vault_services.vault_sweep(actor=SystemActor("tests")) == 0  # younger than an hour: left alone
    from django.core.management import CommandError

    with pytest.raises(CommandError):  # a typo is not "everything, now"
        call_command("vault_sweep", "--minutes", "-60")
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == files
    monkeypatch.setattr("itertools.batched", lambda it, n, _real=__import__("itertools").batched: _real(it, 1))
    call_command("vault_sweep", "--minutes", "0")  # looked up one file at a time: the same answer
    assert "1 berkas" in capsys.readouterr().out
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == {ktp.file.name}
    assert AuditEntry.objects.filter(action="vault.swept").get().changes == {"removed": 1}
    client.force_login(ktp.owner)
    assert client.get(f"/dokumen/{ktp.uuid}/").status_code == 200


def test_a_negative_sweep_age_is_refused_even_before_any_file_was_stored(settings, tmp_path):
    from datetime import timedelta

    from satupintu.core.errors import InvalidInput
    from satupintu.core.permissions import SystemActor
    from satupintu.vault import services as vault_services

    settings.SATUPINTU_VAULT_DIR = tmp_path / "no-vault-yet"
    with pytest.raises(InvalidInput):
        vault_services.vault_sweep(actor=SystemActor("tests"), older_than=timedelta(minutes=-1))


def test_a_refused_upload_keeps_the_type_and_date_chosen(client, citizen, site):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(citizen)
    r = client.post("/dokumen/", {"document_type": "ktp-el", "valid_until": "2031-12-31",
                                  "file": SimpleUploadedFile("x.pdf", b"nope")})
    body = r.content.decode()
    assert r.status_code == 400 and not Document.objects.exists()
    assert '<option value="ktp-el" selected>' in body and 'name="valid_until" value="2031-12-31"' in body
    assert 'role="alert"' in body and "Gagal:" in body


def _vault_files():
    folder = settings.SATUPINTU_VAULT_DIR
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_citizen_cannot_upload_an_inspection_report_on_the_page_or_over_the_api(client, api, citizen, site):
    """The BAP (`bap`) is the inspection officer's report, uploaded at the inspection stage
    (cases.services.application_upload); the vault page and API refuse it and do not offer it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    # added by a migration of cases; a transactional test run earlier may have flushed it
    DocumentType.objects.get_or_create(code="bap", defaults={"name": "Berita Acara Pemeriksaan (BAP) tinjau lapangan"})
    token = api.token(citizen)
    client.force_login(citizen)
    page = client.get("/dokumen/").content.decode()
    assert '<option value="ktp-el"' in page and '<option value="bap"' not in page
    audit_before, files_before = AuditEntry.objects.count(), _vault_files()
    r = client.post("/dokumen/", {"document_type": "bap", "file": SimpleUploadedFile("bap.pdf", PDF)})
    body = r.content.decode()
    assert r.status_code == 400 and "hanya diunggah petugas pada tahap tinjau lapangan" in body
    assert '<option value="bap"' not in body
    r = client.post("/api/v1/documents", {"document_type": "bap", "file": SimpleUploadedFile("bap.pdf", PDF)},
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 400 and r.json()["code"] == "report_type_reserved"
    assert not Document.objects.exists() and AuditEntry.objects.count() == audit_before and _vault_files() == files_before
    with pytest.raises(InvalidInput) as exc:
        services.document_upload(actor=citizen, owner=citizen, document_type=DocumentType.objects.get(code="bap"),
                                 name="bap.pdf", data=PDF)
    assert exc.value.code == "report_type_reserved" and not Document.objects.exists()
