"""Applications over /api/v1: idempotent submission, drafts, uploads checked by content,
decisions, the inbox and public tracking — and bad input that changes nothing."""

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from satupintu.catalog.selectors import filing_catalogue
from satupintu.cases.models import Application, StageTask, Status
from satupintu.core.errors import InvalidInput
from satupintu.core.models import AuditEntry
from satupintu.vault.models import Document

from .factories import PDF
from .helpers import active, officer_for, pass_stage

pytestmark = pytest.mark.django_db


class Client:
    def __init__(self, client, token):
        self.client, self.auth = client, {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def call(self, method, path, data=None, **headers):
        kwargs = {"content_type": "application/json"} if method != "get" else {}
        body = json.dumps(data if data is not None else {}) if method != "get" else data
        return getattr(self.client, method)(f"/api/v1{path}", body, **kwargs, **self.auth, **headers)

    def upload(self, path, data: dict):
        return self.client.post(f"/api/v1{path}", data, **self.auth)


@pytest.fixture
def as_citizen(client, api, citizen):
    return Client(client, api.token(citizen))


@pytest.fixture
def officer_client(client, api):
    return lambda user: Client(client, api.token(user))


def file_payload(pbg, ktp):
    return {"service": str(pbg.uuid), "submit": True, "documents": {str(pbg.current_version.requirements.get().id): str(ktp.uuid)}}


def test_submit_with_idempotency_key_creates_one_application(as_citizen, pbg, ktp, officers):
    first = as_citizen.call("post", "/applications", file_payload(pbg, ktp), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    again = as_citizen.call("post", "/applications", file_payload(pbg, ktp), HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json()["uuid"] == first.json()["uuid"]
    assert Application.objects.count() == 1
    body = first.json()
    assert body["status"] == "submitted" and len(body["tracking_number"]) == 10
    assert [t["stage"] for t in body["tasks"] if t["status"] == "active"] == ["kelengkapan"]


def test_a_filing_reads_the_catalogue_once_per_process(as_citizen, pbg, ktp, officers):
    """The service, its requirements, the workflow's agencies and the closures come from the
    process's copy after the first filing: only the revisions are read, once for the whole
    request (the token's user, the catalogue, the officers to notify and the webhooks)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from satupintu.core import revisions

    payload = file_payload(pbg, ktp)
    assert as_citizen.call("post", "/applications", payload, HTTP_IDEMPOTENCY_KEY="q-1").status_code == 201
    with CaptureQueriesContext(connection) as captured:
        second = as_citizen.call("post", "/applications", payload, HTTP_IDEMPOTENCY_KEY="q-2")
    assert second.status_code == 201, second.content
    sqls = [q["sql"] for q in captured.captured_queries]
    catalogue = [sql for sql in sqls if '"catalog_' in sql]
    assert catalogue == [] and [sql for sql in sqls if "core_revision" in sql] == [revisions.ALL_TOKENS_SQL], sqls
    assert second.json()["requirements"] == as_citizen.call("get", f"/applications/{second.json()['uuid']}").json()["requirements"]


def test_the_submission_answer_is_the_application_as_stored(as_citizen, pbg, ktp, officers):
    """The 201 body is built from what the service wrote, not read back: it must equal a GET."""
    posted = as_citizen.call("post", "/applications", file_payload(pbg, ktp), HTTP_IDEMPOTENCY_KEY="same-as-get")
    assert posted.status_code == 201, posted.content
    body = posted.json()
    assert body == as_citizen.call("get", f"/applications/{body['uuid']}").json()
    # a parallel stage lists its agencies as every read does (by id), not in the workflow's order
    assert [t["agency"] for t in body["tasks"] if t["stage"] == "tim-teknis"] == ["dpmptsp", "pupr", "bapenda"]
    assert body["status"] == "submitted" and body["due_on"] is None and body["documents"]
    # one action, one audit entry: what was filed, with which documents
    entries = list(AuditEntry.objects.filter(object_id=body["uuid"]).values_list("action", "changes"))
    assert [a for a, _c in entries] == ["application.submitted"]
    assert entries[0][1]["documents"] == {"ktp-el": str(ktp.uuid)} and entries[0][1]["channel"] == "online"


def test_same_key_for_a_different_request_is_a_conflict(as_citizen, pbg, ktp, officers):
    as_citizen.call("post", "/applications", file_payload(pbg, ktp), HTTP_IDEMPOTENCY_KEY="k-2")
    other = {**file_payload(pbg, ktp), "notes": "lain"}
    r = as_citizen.call("post", "/applications", other, HTTP_IDEMPOTENCY_KEY="k-2")
    assert r.status_code == 409 and r.json()["code"] == "idempotency_mismatch"
    assert Application.objects.count() == 1


def test_a_draft_retried_with_its_idempotency_key_is_the_same_draft(as_citizen, pbg, officers):
    """Drafts may be several, but the Idempotency-Key holds for them too: a retry returns the
    draft the first call made (200), the same key for another body is a 409 and stores nothing."""
    payload = {"service": "dpmptsp/pbg", "notes": "Rumah tinggal"}
    first = as_citizen.call("post", "/applications", payload, HTTP_IDEMPOTENCY_KEY="d-1")
    assert first.status_code == 201 and first.json()["status"] == "draft"
    audit_before = AuditEntry.objects.count()
    again = as_citizen.call("post", "/applications", payload, HTTP_IDEMPOTENCY_KEY="d-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert Application.objects.count() == 1 and AuditEntry.objects.count() == audit_before
    for other in ({**payload, "notes": "Ruko"}, {**payload, "submit": True}):
        r = as_citizen.call("post", "/applications", other, HTTP_IDEMPOTENCY_KEY="d-1")
        assert r.status_code == 409 and r.json()["code"] == "idempotency_mismatch"
    assert Application.objects.count() == 1 and AuditEntry.objects.count() == audit_before
    # another key, or none: another draft
    assert as_citizen.call("post", "/applications", payload, HTTP_IDEMPOTENCY_KEY="d-2").status_code == 201
    assert as_citizen.call("post", "/applications", payload).status_code == 201
    assert as_citizen.call("post", "/applications", payload).status_code == 201
    assert Application.objects.filter(status=Status.DRAFT).count() == 4
    r = as_citizen.call("post", "/applications", payload, HTTP_IDEMPOTENCY_KEY=" ")
    assert r.status_code == 400 and r.json()["code"] == "invalid_idempotency_key"


def test_missing_mandatory_document_is_400_and_stores_nothing(as_citizen, pbg, officers):
    audit_before = AuditEntry.objects.count()
    r = as_citizen.call("post", "/applications", {"service": str(pbg.uuid), "submit": True}, HTTP_IDEMPOTENCY_KEY="k-3")
    assert r.status_code == 400
    assert r.json()["code"] == "incomplete" and "KTP" in r.json()["details"]["documents"]
    assert Application.objects.count() == 0 and AuditEntry.objects.count() == audit_before


def test_draft_then_attach_then_submit(as_citizen, pbg, ktp, officers):
    r = as_citizen.call("post", "/applications", {"service": "dpmptsp/pbg"})
    assert r.status_code == 201 and r.json()["status"] == "draft" and r.json()["tracking_number"] is None
    uuid = r.json()["uuid"]
    req = r.json()["requirements"][0]["id"]
    assert as_citizen.call("patch", f"/applications/{uuid}", {"notes": "Rumah tinggal 2 lantai"}).json()["notes"]
    r = as_citizen.call("put", f"/applications/{uuid}/documents/{req}", {"document": str(ktp.uuid)})
    assert r.status_code == 200 and r.json()["documents"][0]["document"] == str(ktp.uuid)
    r = as_citizen.call("post", f"/applications/{uuid}/submit", {"revision": r.json()["revision"]})
    assert r.status_code == 200 and r.json()["status"] == "submitted"


def test_upload_is_checked_by_content_and_size(as_citizen, settings, citizen, site):
    fake = SimpleUploadedFile("ktp.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    r = as_citizen.upload("/documents", {"document_type": "ktp-el", "file": fake})
    assert r.status_code == 400 and r.json()["code"] == "file_type"
    settings.SATUPINTU_VAULT_MAX_BYTES = 100
    big = SimpleUploadedFile("ktp.pdf", PDF + b"0" * 200, content_type="application/pdf")
    r = as_citizen.upload("/documents", {"document_type": "ktp-el", "file": big})
    assert r.status_code == 400 and r.json()["code"] == "file_too_large"
    assert Document.objects.count() == 0
    ok = SimpleUploadedFile("scan.bin", PDF, content_type="application/octet-stream")
    r = as_citizen.upload("/documents", {"document_type": "ktp-el", "file": ok})
    assert r.status_code == 201 and r.json()["content_type"] == "application/pdf" and r.json()["name"] == "scan.pdf"


def test_officer_decides_through_the_api_and_inbox_follows(submitted, officers, officer_client):
    fo = officer_client(officers["dpmptsp:front_office"])
    inbox = fo.call("get", "/inbox").json()
    assert inbox["count"] == 1 and inbox["items"][0]["tracking_number"] == submitted.tracking_number
    task_id = inbox["items"][0]["task"]["id"]
    r = fo.call("post", f"/applications/{submitted.uuid}/tasks/{task_id}/approve", {"note": "Lengkap"})
    assert r.status_code == 200 and r.json()["status"] == "in_process"
    assert fo.call("get", "/inbox").json()["count"] == 0
    verifier = officer_client(officers["dpmptsp:verifier"])
    assert verifier.call("get", "/inbox").json()["count"] == 1
    again = fo.call("post", f"/applications/{submitted.uuid}/tasks/{task_id}/approve", {})
    assert again.status_code == 409 and again.json()["code"] == "task_not_active"


def test_wrong_role_decision_is_403_and_changes_nothing(submitted, officers, officer_client):
    task = active(submitted)[0]
    r = officer_client(officers["dpmptsp:verifier"]).call(
        "post", f"/applications/{submitted.uuid}/tasks/{task.id}/reject", {"reason": "Pasal 1"})
    assert r.status_code == 403 and r.json()["code"] == "wrong_role"
    assert Application.objects.get(pk=submitted.pk).status == Status.SUBMITTED


def test_decision_on_a_finished_application_is_409(submitted, officers, officer_client):
    task = active(submitted)[0]
    officer = officer_for(officers, task)
    from satupintu.cases import services

    services.task_reject(actor=officer, task=task, reason="Bukan kewenangan daerah", legal_basis="Pasal 5 ayat 2")
    r = officer_client(officer).call("post", f"/applications/{submitted.uuid}/tasks/{task.id}/approve", {})
    assert r.status_code == 409 and r.json()["code"] == "application_final"


def test_return_and_resubmit_through_the_api(submitted, officers, officer_client, as_citizen):
    pass_stage(officers, submitted, "kelengkapan")
    task = active(submitted, "entri")[0]
    verifier = officer_client(officers["dpmptsp:verifier"])
    r = verifier.call("post", f"/applications/{submitted.uuid}/tasks/{task.id}/return", {"reason": ""})
    assert r.status_code == 400 and r.json()["code"] == "reason_missing"
    r = verifier.call("post", f"/applications/{submitted.uuid}/tasks/{task.id}/return", {"reason": "Lampirkan KTP yang jelas"})
    assert r.json()["status"] == "returned" and r.json()["return_reason"] == "Lampirkan KTP yang jelas"
    mine = as_citizen.call("get", "/applications").json()
    assert mine["items"][0]["status"] == "returned"
    r = as_citizen.call("post", f"/applications/{submitted.uuid}/resubmit", {})
    assert r.status_code == 200 and r.json()["status"] == "in_process"
    assert [t["stage"] for t in r.json()["tasks"] if t["status"] == "active"] == ["entri"]


def test_history_is_visible_to_the_applicant(submitted, as_citizen):
    r = as_citizen.call("get", f"/applications/{submitted.uuid}/history")
    assert [h["action"] for h in r.json()][-1] == "application.submitted"


class TestTracking:
    def test_number_and_birth_date_show_a_timeline_without_personal_data(self, client, submitted):
        r = client.get("/api/v1/track", {"number": submitted.tracking_number, "birth_date": "1995-08-12"})
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["status"] == "submitted" and body["stages"][0]["name"] == "Pemeriksaan kelengkapan"
        text = r.content.decode()
        assert "Siti" not in text and "1471025208950003" not in text and "siti@" not in text

    def test_dates_are_the_mall_s_dates(self, client, submitted):
        from datetime import datetime, timezone as tz

        # 18:00 UTC is 01:00 the next day in Pekanbaru (WIB)
        type(submitted).objects.filter(pk=submitted.pk).update(submitted_at=datetime(2026, 11, 29, 18, 0, tzinfo=tz.utc))
        submitted.tasks.update(decided_at=datetime(2026, 11, 30, 17, 30, tzinfo=tz.utc))
        body = client.get("/api/v1/track", {"number": submitted.tracking_number, "birth_date": "1995-08-12"}).json()
        assert body["submitted_on"] == "2026-11-30" and body["stages"][0]["finished_on"] == "2026-12-01"

    def test_last_four_nik_digits_work_too(self, client, submitted):
        assert client.get("/api/v1/track", {"number": submitted.tracking_number, "nik_last4": "0003"}).status_code == 200

    def test_a_typo_is_caught_by_the_check_digit(self, client, submitted):
        number = submitted.tracking_number
        typo = number[:3] + ("X" if number[3] != "X" else "Y") + number[4:]
        r = client.get("/api/v1/track", {"number": typo, "birth_date": "1995-08-12"})
        assert r.status_code == 400 and r.json()["code"] == "tracking_check_digit"

    def test_wrong_birth_date_is_404_and_brute_force_is_429(self, client, submitted, settings):
        settings.SATUPINTU_TRACKING_FAILURE_LIMIT = (3, 3600)
        for day in range(1, 4):
            r = client.get("/api/v1/track", {"number": submitted.tracking_number, "birth_date": f"1990-01-0{day}"})
            assert r.status_code == 404
        r = client.get("/api/v1/track", {"number": submitted.tracking_number, "birth_date": "1995-08-12"})
        assert r.status_code == 429 and r.json()["code"] == "rate_limited" and int(r["Retry-After"]) > 0

    def test_per_client_limit(self, client, submitted, settings):
        settings.SATUPINTU_TRACKING_LIMIT = (2, 600)
        for _ in range(2):
            client.get("/api/v1/track", {"number": submitted.tracking_number, "nik_last4": "0003"})
        assert client.get("/api/v1/track", {"number": submitted.tracking_number, "nik_last4": "0003"}).status_code == 429


def test_my_applications_query_count(as_citizen, citizen, pbg, ktp, officers, django_assert_max_num_queries):
    from satupintu.cases import services

    req = pbg.current_version.requirements.get().id
    for _ in range(25):
        services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp})
    with django_assert_max_num_queries(14):
        r = as_citizen.call("get", "/applications", {"page_size": 25})
    assert r.json()["count"] == 25 and len(r.json()["items"]) == 25


def test_inbox_query_count(citizen, pbg, ktp, officers, officer_client, django_assert_max_num_queries):
    from satupintu.cases import services

    req = pbg.current_version.requirements.get().id
    for _ in range(25):
        services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp})
    fo = officer_client(officers["dpmptsp:front_office"])
    with django_assert_max_num_queries(10):
        r = fo.call("get", "/inbox", {"page_size": 25})
    assert r.json()["count"] == 25
    assert StageTask.objects.filter(status="active").count() == 25
    r = fo.call("get", "/inbox", {"page": 10**17, "page_size": 100})  # a capped count: was a 500
    assert r.status_code == 400 and r.json()["code"] == "invalid_page"


def test_front_office_files_a_walk_in_application(officer_client, pbg, officers, as_citizen):
    fo = officer_client(officers["dpmptsp:front_office"])
    r = fo.call("post", "/applications", {"service": "dpmptsp/pbg", "applicant_nik": "1401021203880002",
                                          "applicant_name": "Budi Santoso", "applicant_phone": "081298765432"})
    assert r.status_code == 201 and r.json()["channel"] == "walk_in" and r.json()["status"] == "draft"
    r = as_citizen.call("post", "/applications", {"service": "dpmptsp/pbg", "applicant_nik": "1401021203880002"})
    assert r.status_code == 403 and r.json()["code"] == "not_officer"
    verifier = officer_client(officers["dpmptsp:verifier"])
    r = verifier.call("post", "/applications", {"service": "dpmptsp/pbg", "applicant_nik": "1401021203880002"})
    assert r.status_code == 403 and Application.objects.count() == 1
    # a refused filing opens no account either (the account and the draft are one transaction)
    from satupintu.identity.models import User

    users = User.objects.count()
    r = verifier.call("post", "/applications", {"service": "dpmptsp/pbg", "applicant_nik": "1471034507900001",
                                                "applicant_name": "Rina", "applicant_phone": "081311112222"})
    assert r.status_code == 403 and User.objects.count() == users


def test_inbox_count_stops_at_the_cap(citizen, pbg, ktp, officers, officer_client, monkeypatch):
    from satupintu.cases import selectors, services

    monkeypatch.setattr(selectors, "INBOX_COUNT_CAP", 3)
    req = pbg.current_version.requirements.get().id
    for _ in range(5):
        services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp})
    body = officer_client(officers["dpmptsp:front_office"]).call("get", "/inbox", {"page_size": 2}).json()
    assert body["count"] == 3 and body["count_capped"] is True and body["pages"] == 2


def test_a_stored_key_is_found_by_the_insert_not_looked_up_first(citizen, pbg, ktp, officers, monkeypatch):
    """A first call looks nothing up for its key. A call whose key is on file (a retry, or a
    concurrent call that committed first) meets it at the insert: with the same body it answers
    with the first application; with another body it is a 409 and keeps nothing it wrote."""
    from satupintu.cases import services
    from satupintu.core.errors import Conflict

    req = pbg.current_version.requirements.get().id
    real, calls = services._replay, []

    def counted(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(services, "_replay", counted)
    first = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp}, idempotency_key="race",
                                      fingerprint="body-1")
    assert first.created and calls == []
    audit_before = AuditEntry.objects.count()
    with pytest.raises(Conflict) as refused:
        services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp}, idempotency_key="race",
                                  fingerprint="body-2")
    assert refused.value.code == "idempotency_mismatch" and len(calls) == 1
    assert AuditEntry.objects.count() == audit_before and StageTask.objects.filter(application__idempotency_key="race").count() == 9
    again = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp}, idempotency_key="race",
                                      fingerprint="body-1")
    assert (again.application.pk, again.created) == (first.application.pk, False) and len(calls) == 2
    assert Application.objects.count() == 1


def test_a_retry_that_a_check_would_refuse_now_still_gets_the_first_application(citizen, pbg, ktp, officers):
    """The key is not looked up before the checks: a retry that they refuse (the document
    expired since the first call) is still answered with the application the first call made."""
    from satupintu.cases import services

    req = pbg.current_version.requirements.get().id
    first = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp}, idempotency_key="late",
                                      fingerprint="body-1")
    Document.objects.filter(pk=ktp.pk).update(valid_until=date(2000, 1, 1))
    ktp.refresh_from_db()
    again = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp}, idempotency_key="late",
                                      fingerprint="body-1")
    assert (again.application.pk, again.created) == (first.application.pk, False)
    with pytest.raises(InvalidInput):  # without the key the same request is refused
        services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={req: ktp})
    assert Application.objects.count() == 1


def test_a_refused_walk_in_filing_opens_no_account(officer_client, pbg, officers):
    from satupintu.identity.models import User

    users = User.objects.count()
    r = officer_client(officers["dpmptsp:front_office"]).call(
        "post", "/applications", {"service": "dpmptsp/pbg", "submit": True, "applicant_nik": "1471034507900001",
                                  "applicant_name": "Rina", "applicant_phone": "081311112222"},
        HTTP_IDEMPOTENCY_KEY="walk-in-1")
    assert r.status_code == 400 and r.json()["code"] == "incomplete"  # no documents in a new citizen's vault
    assert User.objects.count() == users and Application.objects.count() == 0
