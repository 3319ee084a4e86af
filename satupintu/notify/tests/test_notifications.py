from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from conftest import NIK_KAMPAR_M, PASSWORD
from satupintu.core.errors import InvalidInput, NotFound
from satupintu.core.models import AuditEntry
from satupintu.notify import services
from satupintu.notify.events import EVENTS, render
from satupintu.notify.models import EmailStatus, Notification

pytestmark = pytest.mark.django_db

CTX = {"tracking_number": "PK7Q2M9", "service_name": "Izin Reklame"}


@pytest.fixture
def phone_only(db):
    from satupintu.identity.services import citizen_register

    return citizen_register(actor=None, full_name="Budi Santoso", password=PASSWORD, nik=NIK_KAMPAR_M, phone="081298765432")


def email_tasks():
    return DBTaskResult.objects.filter(task_path="satupintu.notify.tasks.send_notification_email")


def test_one_notification_per_distinct_recipient_and_email_after_commit(
    citizen, phone_only, make_officer, agency, django_capture_on_commit_callbacks
):
    officer = make_officer(agency, role="verifier")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = services.notify_users(actor=officer, recipients=[citizen, citizen, phone_only], event="application.returned",
                                        context={**CTX, "reason": "Foto KTP buram"}, link="/permohonan/PK7Q2M9/", obj=agency)
        assert email_tasks().count() == 0  # nothing is sent before the decision commits
    assert len(callbacks) == 1 and len(created) == 2
    by_user = {n.recipient_id: n for n in Notification.objects.all()}
    assert by_user[citizen.pk].email_status == EmailStatus.PENDING
    assert by_user[phone_only.pk].email_status == EmailStatus.SKIPPED  # no email address
    assert by_user[citizen.pk].object_type == "catalog.agency" and by_user[citizen.pk].object_id == str(agency.uuid)
    queued = list(email_tasks())
    assert len(queued) == 1 and queued[0].args_kwargs["args"] == [str(by_user[citizen.pk].uuid)]


def test_rolled_back_decision_sends_nothing(citizen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                services.notify_users(actor=None, recipients=[citizen], event="application.approved", context=CTX)
                raise RuntimeError("the decision failed")
    assert Notification.objects.count() == 0 and email_tasks().count() == 0


def test_enqueue_failure_is_swallowed_and_the_decision_stands(citizen, monkeypatch, django_capture_on_commit_callbacks, caplog):
    def boom(self, task, args, kwargs):
        raise ConnectionError("task table unavailable")

    monkeypatch.setattr(DatabaseBackend, "enqueue", boom)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            services.notify_users(actor=None, recipients=[citizen], event="application.approved", context=CTX)
    assert Notification.objects.count() == 1
    assert "could not enqueue" in caplog.text


@pytest.mark.parametrize("event,context,link,code", [
    ("application.teleported", CTX, "", "unknown_event"),
    ("application.rejected", CTX, "", "missing_context"),  # no reason
    ("application.approved", {"tracking_number": "X"}, "", "missing_context"),
    ("application.approved", {**CTX, "fee": {"amount": 5}}, "", "invalid_context"),
    ("application.approved", {**CTX, "note": "x" * 1001}, "", "invalid_context"),
    ("application.approved", CTX, "https://evil.example/", "invalid_link"),
    ("application.approved", CTX, "//evil.example/", "invalid_link"),
])
def test_bad_input_stores_nothing(citizen, event, context, link, code):
    with pytest.raises(InvalidInput) as exc:
        services.notify_users(actor=None, recipients=[citizen], event=event, context=context, link=link)
    assert exc.value.code == code and exc.value.message
    assert Notification.objects.count() == 0


def test_every_event_renders_with_its_keys():
    full = {**CTX, "reason": "r", "stage_name": "Verifikasi", "agency_name": "DPMPTSP", "due_on": "2026-03-12",
            "applicant_name": "Siti"}
    for name, event in EVENTS.items():
        title, body = render(name, {k: full[k] for k in event.required})
        assert "PK7Q2M9" in title and "Izin Reklame" in body and "—" not in title + body, name


def test_dates_in_the_readers_language_and_optional_lines(citizen):
    [n] = services.notify_users(actor=None, recipients=[citizen], event="application.stage_assigned",
                                context={**CTX, "applicant_name": "Siti", "due_on": date(2026, 3, 12)})
    assert n.context["due_on"] == "2026-03-12"
    with translation.override("id"):
        _title, body = render(n.event, n.context)
    assert "Pemohon: Siti." in body and "12 Maret 2026" in body
    with translation.override("en"):
        assert "March 12, 2026" in render(n.event, n.context)[1]


def _notify(user, event="application.approved"):
    return services.notify_users(actor=None, recipients=[user], event=event, context=CTX, link="/x/")[0]


def test_email_sent_in_site_language(citizen):
    n = _notify(citizen)
    with translation.override("en"):
        assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.SENT
    n.refresh_from_db()
    assert n.email_status == EmailStatus.SENT and n.email_attempts == 1 and n.email_sent_at
    [msg] = mail.outbox
    assert msg.to == ["siti@example.test"] and msg.subject == "Permohonan PK7Q2M9 disetujui"
    assert "http://127.0.0.1:8000/x/" in msg.body
    # a second run (a duplicate task) sends nothing more
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_a_run_that_finds_the_email_claimed_does_not_send(citizen, monkeypatch):
    """Two runs of the same task at once: the one that loses the claim sends nothing."""
    from django.db.models import QuerySet

    n = _notify(citizen)
    claimed_elsewhere = {"done": False}
    original = QuerySet.update

    def update(self, **kwargs):
        if kwargs.get("email_status") == EmailStatus.SENDING and not claimed_elsewhere["done"]:
            claimed_elsewhere["done"] = True
            original(self.model.objects.filter(pk=n.pk), email_status=EmailStatus.SENDING)  # the rival wins first
        return original(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.SENDING
    assert mail.outbox == []


def test_email_failure_retries_with_backoff_then_fails(citizen, monkeypatch, settings):
    settings.SATUPINTU_NOTIFY_MAX_ATTEMPTS = 3

    def refuse(self, *a, **k):
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    n = _notify(citizen)
    before = timezone.now()
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.PENDING
    n.refresh_from_db()
    assert n.email_attempts == 1 and "SMTP down" in n.email_last_error
    retry = email_tasks().get()
    assert retry.run_after >= before + timedelta(seconds=59)
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.PENDING
    assert email_tasks().order_by("-enqueued_at").first().run_after >= before + timedelta(seconds=119)  # doubled
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.FAILED
    n.refresh_from_db()
    assert n.email_status == EmailStatus.FAILED and n.email_attempts == 3 and email_tasks().count() == 2


def test_the_task_runs_the_send(citizen):
    from satupintu.notify.tasks import send_notification_email

    n = _notify(citizen)
    assert send_notification_email.call(str(n.uuid)) == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_mark_read_own_only_and_audited(citizen, phone_only):
    mine, theirs = _notify(citizen), _notify(phone_only)
    _notify(citizen)
    with pytest.raises(NotFound):
        services.notification_mark_read(actor=citizen, notification=theirs)
    assert services.notification_mark_read(actor=citizen, notification=mine) == 1
    assert services.notification_mark_read(actor=citizen, notification=mine) == 0  # already read
    assert AuditEntry.objects.filter(action="notification.read").count() == 1
    assert services.notification_mark_read(actor=citizen, all=True) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
