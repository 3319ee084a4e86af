"""A front-office officer filing for a walk-in citizen sees and uses the citizen's stored
documents only after the citizen reads out a one-time code sent to their account; files the
officer scans at the counter are usable at once."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conftest import NIK_PEKANBARU_F
from satupintu.cases import selectors, services
from satupintu.cases.models import ApplicationDocument, VaultConsent
from satupintu.catalog.models import DocumentType
from satupintu.catalog.selectors import filing_catalogue
from satupintu.core.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from satupintu.core.models import AuditEntry
from satupintu.notify.models import Notification
from satupintu.vault.services import document_upload

from .factories import PDF

pytestmark = pytest.mark.django_db


@pytest.fixture
def fo(officers):
    return officers["dpmptsp:front_office"]


@pytest.fixture
def draft(fo, pbg, citizen, ktp):
    """Siti (who keeps her KTP in her vault) comes to the counter; the officer opens a draft for her NIK."""
    return services.application_create(actor=fo, service=pbg,
                                       walk_in={"nik": NIK_PEKANBARU_F, "full_name": "Siti"}).application


def requirement(pbg):
    return pbg.current_version.requirements.get()


def code_sent(app) -> str:
    note = Notification.objects.filter(event="application.vault_consent_requested", recipient=app.applicant).latest("id")
    return note.context["code"]


def footprint(app):
    return (list(ApplicationDocument.objects.filter(application=app).values_list("document_id", flat=True)),
            list(VaultConsent.objects.filter(application=app).values_list("attempts", "granted_at")),
            AuditEntry.objects.count())


def test_without_consent_the_citizens_stored_documents_are_neither_offered_nor_attachable(draft, fo, pbg, ktp):
    assert draft.applicant_id == ktp.owner_id and draft.channel == "walk_in"
    offered, consent = selectors.documents_to_attach(actor=fo, app=draft, requirements=[requirement(pbg)])
    assert offered == {ktp.document_type_id: []} and consent is False
    before = footprint(draft)
    with pytest.raises(Forbidden) as exc:
        services.application_attach(actor=fo, application=draft, requirement=requirement(pbg), document=ktp)
    assert exc.value.code == "vault_consent_required"
    assert footprint(draft) == before
    # the citizen herself sees her documents on her own applications, as before
    own = services.application_create(actor=ktp.owner, service=pbg).application
    assert selectors.documents_to_attach(actor=ktp.owner, app=own, requirements=[requirement(pbg)])[0] == {
        ktp.document_type_id: [ktp]}


def test_a_file_the_officer_scans_at_the_counter_needs_no_consent(draft, fo, pbg):
    scanned = services.application_upload(actor=fo, application=draft, document_type=requirement(pbg).document_type,
                                          name="ktp-scan.pdf", data=PDF)
    offered, _consent = selectors.documents_to_attach(actor=fo, app=draft, requirements=[requirement(pbg)])
    assert offered[scanned.document_type_id] == [scanned]
    services.application_attach(actor=fo, application=draft, requirement=requirement(pbg), document=scanned)
    services.application_submit(actor=fo, application=draft)


def test_the_code_goes_to_the_citizen_and_the_right_one_opens_the_vault(draft, fo, pbg, ktp):
    consent = services.vault_consent_request(actor=fo, application=draft)
    note = Notification.objects.get(event="application.vault_consent_requested")
    assert note.recipient_id == draft.applicant_id and note.email_status == "pending"  # Siti has an e-mail address
    code = note.context["code"]
    assert len(code) == 6 and code.isdigit() and code not in consent.code_hash  # only its keyed hash is kept
    assert note.context["officer_name"] == fo.full_name
    assert AuditEntry.objects.filter(action="application.vault_consent_requested").count() == 1
    services.vault_consent_grant(actor=fo, application=draft, code=f"{code[:3]} {code[3:]}")  # as read out, spaced
    offered, granted = selectors.documents_to_attach(actor=fo, app=draft, requirements=[requirement(pbg)])
    assert granted and offered[ktp.document_type_id] == [ktp]
    services.application_attach(actor=fo, application=draft, requirement=requirement(pbg), document=ktp)
    assert AuditEntry.objects.filter(action="application.vault_consent_granted").count() == 1
    with pytest.raises(Conflict) as exc:
        services.vault_consent_request(actor=fo, application=draft)
    assert exc.value.code == "consent_already_granted"


def test_wrong_codes_count_and_the_fifth_voids_the_code(draft, fo):
    services.vault_consent_request(actor=fo, application=draft)
    right = code_sent(draft)
    wrong = "000000" if right != "000000" else "111111"
    audit = AuditEntry.objects.count()
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(InvalidInput) as exc:
            services.vault_consent_grant(actor=fo, application=draft, code=wrong)
        assert exc.value.code == "consent_code_wrong" and exc.value.details == {"attempts_left": left}
    assert VaultConsent.objects.get(application=draft).attempts == 5  # counted, though each call failed
    failed = AuditEntry.objects.filter(action="application.vault_consent_failed").order_by("id")
    assert [e.changes["attempts_left"] for e in failed] == [4, 3, 2, 1, 0]  # audited, though each call failed
    with pytest.raises(Conflict) as exc:  # void now, even the right code
        services.vault_consent_grant(actor=fo, application=draft, code=right)
    assert exc.value.code == "consent_code_expired"
    assert AuditEntry.objects.count() == audit + 5 and not selectors.vault_consent_granted(draft)


def test_an_expired_code_is_refused_and_a_new_one_voids_the_old(draft, fo):
    services.vault_consent_request(actor=fo, application=draft)
    first = code_sent(draft)
    VaultConsent.objects.update(created_at=timezone.now() - timedelta(minutes=11),
                                expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(Conflict) as exc:
        services.vault_consent_grant(actor=fo, application=draft, code=first)
    assert exc.value.code == "consent_code_expired"
    services.vault_consent_request(actor=fo, application=draft)
    second = code_sent(draft)
    if second != first:
        with pytest.raises(InvalidInput):
            services.vault_consent_grant(actor=fo, application=draft, code=first)
    services.vault_consent_grant(actor=fo, application=draft, code=second)
    assert selectors.vault_consent_granted(draft)


def test_one_code_a_minute_and_only_the_filer_asks(draft, fo, officers, citizen, pbg):
    services.vault_consent_request(actor=fo, application=draft)
    with pytest.raises(RateLimited):
        services.vault_consent_request(actor=fo, application=draft)
    assert VaultConsent.objects.count() == 1
    with pytest.raises(NotFound):  # another officer of the same agency did not file it
        services.vault_consent_request(actor=officers["dpmptsp:verifier"], application=draft)
    own = services.application_create(actor=citizen, service=pbg).application
    with pytest.raises(InvalidInput) as exc:
        services.vault_consent_request(actor=citizen, application=own)
    assert exc.value.code == "own_application"
    for bad in ("", "12345", "abcdef", "1234567"):
        with pytest.raises(InvalidInput) as exc:
            services.vault_consent_grant(actor=fo, application=draft, code=bad)
        assert exc.value.code == "invalid_consent_code"


def test_a_one_step_walk_in_filing_cannot_use_a_stored_document(fo, pbg, ktp, citizen):
    before = AuditEntry.objects.count()
    with pytest.raises(Forbidden) as exc:
        services.application_file(actor=fo, catalogue=filing_catalogue(pbg), documents={requirement(pbg).id: ktp},
                                  walk_in={"nik": NIK_PEKANBARU_F, "full_name": "Siti"})
    assert exc.value.code == "vault_consent_required" and AuditEntry.objects.count() == before


# ---------------------------------------------------------------------------- API

def test_api_request_grant_and_offered_documents(api, draft, fo, pbg, ktp):
    token = api.token(fo)
    url = f"/applications/{draft.uuid}"
    body = api.get(f"{url}/offered-documents", token=token).json()
    assert body == {"consent_granted": False, "results": [
        {"requirement": requirement(pbg).id, "document_type": "ktp-el", "documents": []}]}
    r = api._call("put", f"{url}/documents/{requirement(pbg).id}", {"document": str(ktp.uuid)}, token=token)
    assert r.status_code == 403 and r.json()["code"] == "vault_consent_required"
    r = api.post(f"{url}/vault-consent/request", token=token)
    assert r.status_code == 202 and r.json()["sent_by_email"] is True
    r = api.post(f"{url}/vault-consent/request", token=token)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    r = api.post(f"{url}/vault-consent", {"code": "12"}, token=token)
    assert r.status_code == 400 and r.json()["code"] == "invalid_consent_code"
    wrong = "000000" if code_sent(draft) != "000000" else "111111"
    r = api.post(f"{url}/vault-consent", {"code": wrong}, token=token)
    assert r.status_code == 400 and r.json()["details"] == {"attempts_left": 4}
    assert VaultConsent.objects.get(application=draft).attempts == 1  # kept, though the call failed
    r = api.post(f"{url}/vault-consent", {"code": code_sent(draft)}, token=token)
    assert r.status_code == 200 and r.json()["granted_at"]
    body = api.get(f"{url}/offered-documents", token=token).json()
    assert body["consent_granted"] is True and body["results"][0]["documents"][0]["uuid"] == str(ktp.uuid)
    r = api._call("put", f"{url}/documents/{requirement(pbg).id}", {"document": str(ktp.uuid)}, token=token)
    assert r.status_code == 200, r.content


def test_api_foreign_callers_get_404(api, draft, officers, make_officer, other_agency):
    for user in (officers["dpmptsp:verifier"], officers["pupr:technical_reviewer"]):
        token = api.token(user)
        assert api.post(f"/applications/{draft.uuid}/vault-consent/request", token=token).status_code == 404
        assert api.post(f"/applications/{draft.uuid}/vault-consent", {"code": "123456"}, token=token).status_code == 404
        assert api.get(f"/applications/{draft.uuid}/offered-documents", token=token).status_code == 404
    assert not VaultConsent.objects.exists()


def test_the_consent_event_is_not_offered_to_webhooks(api, agency, make_officer):
    admin = make_officer(agency, role="agency_admin", email="admin.dpmptsp@example.test")
    r = api.post("/webhooks", {"url": "https://sistem.example/hook", "events": ["application.vault_consent_requested"]},
                 token=api.token(admin))
    assert r.status_code == 400 and r.json()["code"] == "unknown_event"


# ---------------------------------------------------------------------------- page

def test_draft_page_asks_for_the_code_and_then_offers_the_stored_documents(client, draft, fo, pbg, ktp):
    client.force_login(fo)
    page = f"/permohonan/{draft.uuid}/"
    body = client.get(page).content.decode()
    assert "Kirim kode ke pemohon" in body and str(ktp.uuid) not in body
    r = client.post(page, {"action": "consent_request"}, follow=True)
    assert "Kode dikirim ke" in r.content.decode()
    r = client.post(page, {"action": "consent_grant", "code": "99999x"}, follow=True)
    assert "6 angka" in r.content.decode() and not selectors.vault_consent_granted(draft)
    wrong = "000000" if code_sent(draft) != "000000" else "111111"
    r = client.post(page, {"action": "consent_grant", "code": wrong}, follow=True)
    assert "Sisa percobaan: 4" in r.content.decode()
    assert VaultConsent.objects.get(application=draft).attempts == 1  # kept, though the call failed
    r = client.post(page, {"action": "consent_grant", "code": code_sent(draft)}, follow=True)
    body = r.content.decode()
    assert "Pemohon memberi izin" in body and str(ktp.uuid) in body and "Kirim kode ke pemohon" not in body
    r = client.post(page, {"action": "attach", "revision": type(draft).objects.get(pk=draft.pk).revision,
                           f"document-{requirement(pbg).id}": str(ktp.uuid)})
    assert r.status_code == 302 and ApplicationDocument.objects.filter(application=draft, document=ktp).exists()


def test_draft_page_refuses_a_hand_made_post_of_a_stored_document(client, draft, fo, pbg, ktp):
    client.force_login(fo)
    r = client.post(f"/permohonan/{draft.uuid}/", {"action": "attach", "revision": draft.revision,
                                                   f"document-{requirement(pbg).id}": str(ktp.uuid)})
    assert r.status_code == 403 and not ApplicationDocument.objects.filter(application=draft).exists()
    # an uploaded scan in the same form is fine
    r = client.post(f"/permohonan/{draft.uuid}/", {"action": "attach", "revision": draft.revision,
                                                   f"file-{requirement(pbg).id}": SimpleUploadedFile("scan.pdf", PDF)})
    assert r.status_code == 302


def test_the_applicant_is_told_in_their_language(draft, fo, citizen):
    from django.utils import translation

    from satupintu.notify.events import render

    services.vault_consent_request(actor=fo, application=draft)
    note = Notification.objects.get(event="application.vault_consent_requested")
    with translation.override("en"):
        title, body = render(note.event, note.context)
    assert note.context["code"] in title and "10 minutes" in body and fo.full_name in body


def test_at_most_five_codes_a_day_for_one_applicant_whatever_the_draft(draft, fo, pbg):
    """Drafts opened (and deleted) again for the same visitor give no new codes: the day's five
    are the applicant's."""
    for i in range(5):
        VaultConsent.objects.update(created_at=timezone.now() - timedelta(minutes=2))  # past the one-a-minute limit
        services.vault_consent_request(actor=fo, application=draft)
    VaultConsent.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(RateLimited) as exc:
        services.vault_consent_request(actor=fo, application=draft)
    assert "5 kode" in exc.value.message and VaultConsent.objects.count() == 5
    again = services.application_create(actor=fo, service=pbg,
                                        walk_in={"nik": NIK_PEKANBARU_F, "full_name": "Siti"}).application
    services.application_draft_delete(actor=fo, application=draft)  # its codes go with it, the count stays
    with pytest.raises(RateLimited):
        services.vault_consent_request(actor=fo, application=again)
    assert not VaultConsent.objects.exists()


def test_ten_wrong_codes_a_day_for_one_officer_and_applicant(draft, fo):
    from satupintu.core import ratelimit

    for _round in range(2):
        VaultConsent.objects.update(created_at=timezone.now() - timedelta(minutes=2))
        services.vault_consent_request(actor=fo, application=draft)
        right = code_sent(draft)
        for _i in range(5):
            with pytest.raises(InvalidInput):
                services.vault_consent_grant(actor=fo, application=draft, code="000000" if right != "000000" else "111111")
    VaultConsent.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    services.vault_consent_request(actor=fo, application=draft)
    with pytest.raises(RateLimited):  # even the right code: no more guesses today
        services.vault_consent_grant(actor=fo, application=draft, code=code_sent(draft))
    assert ratelimit.count(f"consent-guess:{fo.pk}:{draft.applicant_id}", **services._day_window()) == 10


def test_the_days_of_the_code_limits_start_at_local_midnight_not_utcs(draft, fo, monkeypatch, settings):
    """Pekanbaru (WIB, UTC+7, the deployment's TIME_ZONE): five codes at 23:30 use up that day;
    at 00:30 the next day, which is still the same day in UTC, a new code may be sent, as "try
    again tomorrow" said."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from satupintu.core import ratelimit

    assert settings.TIME_ZONE == "Asia/Jakarta"
    late = datetime(2026, 3, 10, 23, 30, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp()
    now = {"t": late}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])

    def ask():
        VaultConsent.objects.update(created_at=timezone.now() - timedelta(minutes=2))  # past the one-a-minute limit
        return services.vault_consent_request(actor=fo, application=draft)

    for _i in range(5):
        ask()
    with pytest.raises(RateLimited) as exc:
        ask()
    assert exc.value.retry_after == 30 * 60  # until the site's midnight
    now["t"] = late + 3600  # 00:30 WIB on the 11th: 17:30 UTC, still the 10th in UTC
    assert ask().pk


def test_a_consent_holds_for_the_visit_not_for_a_return_weeks_later(draft, fo, pbg, ktp):
    services.vault_consent_request(actor=fo, application=draft)
    services.vault_consent_grant(actor=fo, application=draft, code=code_sent(draft))
    assert selectors.vault_consent_granted(draft)
    VaultConsent.objects.update(granted_at=timezone.now() - timedelta(hours=9))
    assert not selectors.vault_consent_granted(draft)
    with pytest.raises(Forbidden):
        services.application_attach(actor=fo, application=draft, requirement=requirement(pbg), document=ktp)


def test_a_filer_no_longer_at_the_front_office_cannot_continue_the_draft(draft, fo, pbg, ktp, agency, make_officer):
    from satupintu.identity.services import officer_update

    services.vault_consent_request(actor=fo, application=draft)
    services.vault_consent_grant(actor=fo, application=draft, code=code_sent(draft))
    admin = make_officer(agency, role="agency_admin", email="admin.dpmptsp@example.test")
    officer_update(actor=admin, officer=fo, role="verifier")
    fo.refresh_from_db()
    with pytest.raises(NotFound):
        services.application_attach(actor=fo, application=draft, requirement=requirement(pbg), document=ktp)
    with pytest.raises(NotFound):
        selectors.documents_to_attach(actor=fo, app=draft, requirements=[requirement(pbg)])
    with pytest.raises(NotFound):
        services.vault_consent_request(actor=fo, application=draft)
