"""Every application endpoint, walked as a citizen who does not own the file and as an officer
of an agency that has no stage in it: each answer is 403 or 404, and nothing changes."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from satupintu.cases.models import Application, StageTask
from satupintu.catalog.tests.factories import make_agency
from satupintu.core.models import AuditEntry

from .factories import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def intruders(db, site, make_officer, submitted):
    from satupintu.identity.services import citizen_register

    other_citizen = citizen_register(actor=None, full_name="Budi", password="Sandi-Rahasia-2026",
                                     nik="1401021203880002", email="budi@example.test")
    foreign = make_agency(site, slug="samsat", short_name="Samsat")
    return {"citizen": other_citizen, "officer": make_officer(foreign, role="technical_reviewer", email="tr@samsat.test"),
            "fo": make_officer(foreign, role="front_office", email="fo@samsat.test")}


def endpoints(app, task, doc):
    u = app.uuid
    return [
        ("get", f"/applications/{u}", None),
        ("patch", f"/applications/{u}", {"notes": "x"}),
        ("delete", f"/applications/{u}", None),
        ("put", f"/applications/{u}/documents/{task.id}", {"document": str(doc.uuid)}),
        ("delete", f"/applications/{u}/documents/{task.id}", None),
        ("post", f"/applications/{u}/submit", {}),
        ("post", f"/applications/{u}/resubmit", {}),
        ("get", f"/applications/{u}/history", None),
        ("get", f"/applications/{u}/offered-documents", None),
        ("post", f"/applications/{u}/vault-consent/request", {}),
        ("post", f"/applications/{u}/vault-consent", {"code": "123456"}),
        *[("post", f"/applications/{u}/tasks/{task.id}/{d}", {"reason": "Pasal 1", "note": "x"})
          for d in ("claim", "unclaim", "approve", "return", "reject")],
        ("get", f"/documents/{doc.uuid}", None),
        ("get", f"/documents/{doc.uuid}/file", None),
    ]


@pytest.mark.parametrize("who", ["citizen", "officer", "fo"])
def test_every_endpoint_refuses_strangers(client, api, submitted, ktp, intruders, who):
    token = api.token(intruders[who])
    task = StageTask.objects.filter(application=submitted, status="active").first()
    before = (AuditEntry.objects.count(), Application.objects.get(pk=submitted.pk).revision)
    for method, path, data in endpoints(submitted, task, ktp):
        kwargs = {"content_type": "application/json"} if method != "get" else {}
        body = json.dumps(data) if data is not None else None
        r = getattr(client, method)(f"/api/v1{path}", body, HTTP_AUTHORIZATION=f"Bearer {token}", **kwargs)
        assert r.status_code in (403, 404), (method, path, r.status_code, r.content[:200])
    upload = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    r = client.post(f"/api/v1/applications/{submitted.uuid}/uploads", {"document_type": "ktp-el", "file": upload},
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code in (403, 404)
    assert (AuditEntry.objects.count(), Application.objects.get(pk=submitted.pk).revision) == before


def test_pages_refuse_strangers(client, submitted, ktp, intruders):
    for who in ("citizen", "officer"):
        client.force_login(intruders[who])
        for url in (f"/permohonan/{submitted.uuid}/", f"/kantor/permohonan/{submitted.uuid}/", f"/dokumen/{ktp.uuid}/"):
            assert client.get(url).status_code == 404, (who, url)
        r = client.post(f"/kantor/permohonan/{submitted.uuid}/", {"action": "approve", "task": "1"})
        assert r.status_code == 404


def test_anonymous_gets_401_on_every_private_endpoint(client, submitted, ktp):
    task = StageTask.objects.filter(application=submitted).first()
    for method, path, data in endpoints(submitted, task, ktp):
        kwargs = {"content_type": "application/json"} if method != "get" else {}
        r = getattr(client, method)(f"/api/v1{path}", json.dumps(data) if data is not None else None, **kwargs)
        assert r.status_code in (401, 404), (method, path, r.status_code)
