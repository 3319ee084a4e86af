import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from conftest import NIK_KAMPAR_M, PASSWORD
from satupintu.core.errors import InvalidInput, NotFound
from satupintu.core.models import AuditEntry
from satupintu.core.permissions import SystemActor
from satupintu.notify import services
from satupintu.notify.events import EVENTS, render
from satupintu.notify.models import EmailStatus, Notification

pytestmark = pytest.mark.django_db

CTX = {"tracking_number": "PK7Q2M9", "service_name": "Izin Reklame"}
SYSTEM_ACTOR = SystemActor("tests")


@pytest.fixture
def phone_only(db):
    from satupintu.identity.services import citizen_register

    return citizen_register(actor=None, full_name="Budi Santoso", password=PASSWORD, nik=NIK_KAMPAR_M, phone="081298765432")


def email_tasks():
    return DBTaskResult.objects.filter(task_path="satupintu.notify.tasks.send_notification_emails")


def notification_inserts(queries) -> int:
    return sum(1 for q in queries if q["sql"].lstrip().upper().startswith('INSERT INTO "NOTIFY_NOTIFICATION"'))


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
    assert len(queued) == 1 and queued[0].args_kwargs["args"] == [[str(by_user[citizen.pk].uuid)]]


def test_a_batch_is_one_insert_and_one_email_task_with_every_id(
    citizen, phone_only, make_officer, agency, django_capture_on_commit_callbacks
):
    officer = make_officer(agency, role="verifier", email="verifier@example.test")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with CaptureQueriesContext(connection) as queries:
            created = services.notify_batch(actor=None, messages=[
                services.Message([citizen, citizen], "application.submitted", CTX, "/permohonan/PK7Q2M9/", agency),
                services.Message([officer, phone_only, citizen], "application.stage_assigned",
                                 {**CTX, "applicant_name": "Siti"}, "/kantor/berkas/x/"),
            ])
        assert email_tasks().count() == 0  # nothing is queued before the decision commits
    assert notification_inserts(queries.captured_queries) == 1 and len(callbacks) == 1
    # in message order; distinct recipients per message (the citizen is told of both events)
    assert [(n.recipient_id, n.event) for n in created] == [
        (citizen.pk, "application.submitted"), (officer.pk, "application.stage_assigned"),
        (phone_only.pk, "application.stage_assigned"), (citizen.pk, "application.stage_assigned"),
    ]
    first, *rest = created
    assert first.link == "/permohonan/PK7Q2M9/" and first.object_id == str(agency.uuid)
    assert all(n.link == "/kantor/berkas/x/" and n.object_type == "" and n.context["applicant_name"] == "Siti" for n in rest)
    assert Notification.objects.count() == 4
    [queued] = email_tasks()
    assert queued.args_kwargs["args"] == [[str(n.uuid) for n in created if n.recipient_id != phone_only.pk]]


@pytest.mark.parametrize("second", [
    {"event": "application.rejected", "context": CTX, "link": ""},  # no reason
    {"event": "application.approved", "context": CTX, "link": "https://evil.example/"},
])
def test_a_bad_message_anywhere_in_the_batch_stores_nothing(citizen, second, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(InvalidInput):
            services.notify_batch(actor=None, messages=[
                services.Message([citizen], "application.submitted", CTX, "/x/"),
                services.Message([citizen], **second),
            ])
    assert Notification.objects.count() == 0 and email_tasks().count() == 0


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
            "applicant_name": "Siti", "code": "048213", "minutes": "10", "officer_name": "Rina",
            "url": "https://sistem.example/hook", "since": "2026-03-09"}
    for name, event in EVENTS.items():
        title, body = render(name, {k: full[k] for k in event.required})
        assert "—" not in title + body, name
        for key in event.required:  # every value it needs is shown (dates in the reader's format)
            if key not in ("due_on", "since"):
                assert full[key] in title + body, (name, key)


def test_dates_in_the_readers_language_and_optional_lines(citizen):
    [n] = services.notify_users(actor=None, recipients=[citizen], event="application.stage_assigned",
                                context={**CTX, "applicant_name": "Siti", "due_on": date(2026, 3, 12)})
    assert n.context["due_on"] == "2026-03-12"
    with translation.override("id"):
        _title, body = render(n.event, n.context)
    assert "Pemohon: Siti." in body and "12 Maret 2026" in body
    with translation.override("en"):
        assert "March 12, 2026" in render(n.event, n.context)[1]


@pytest.mark.parametrize("due_on", ["", "   "])
def test_an_optional_line_only_with_a_value(due_on):
    """A line whose value is empty is left out: no "Batas waktu: ." with nothing after it."""
    context = {**CTX, "applicant_name": "", "due_on": due_on, "stage_name": "Verifikasi"}
    with translation.override("id"):
        _title, body = render("application.stage_assigned", context)
    assert body == "Permohonan Izin Reklame masuk ke kotak kerja Anda. Tahap: Verifikasi."
    with translation.override("en"):
        assert "Deadline" not in render("application.stage_assigned", context)[1]


@pytest.mark.parametrize("event,extra", [("application.approved", {}), ("application.rejected", {"reason": "Pasal 10"})])
def test_a_final_decision_never_shows_the_applications_due_date(event, extra):
    """Not even from a notification stored with one: a citizen would read it as the permit's expiry."""
    with translation.override("id"):
        _title, body = render(event, {**CTX, **extra, "due_on": "2026-03-12"})
    assert "Batas waktu" not in body and "2026" not in body


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


def due_now(notification) -> None:
    """The time of its next try has come (as the worker runs the retry task at its `run_after`)."""
    Notification.objects.filter(pk=notification.pk).update(email_due_at=timezone.now())


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
    assert retry.run_after >= before + timedelta(seconds=59) and retry.args_kwargs["args"] == [[str(n.uuid)]]
    assert n.email_due_at == retry.run_after  # what notify_requeue measures a lost retry by
    # a second run of the task now (a duplicate, a requeue beside a late task) leaves it to the retry
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.PENDING
    n.refresh_from_db()
    assert n.email_attempts == 1 and email_tasks().count() == 1
    due_now(n)  # the retry's time comes
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.PENDING
    assert email_tasks().order_by("-enqueued_at").first().run_after >= before + timedelta(seconds=119)  # doubled
    due_now(n)
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.FAILED
    n.refresh_from_db()
    assert n.email_status == EmailStatus.FAILED and n.email_attempts == 3 and email_tasks().count() == 2


def test_the_task_runs_the_send(citizen):
    """The one-notification task stays for the rows a deployed database already queued under its name."""
    from satupintu.notify.tasks import send_notification_email

    n = _notify(citizen)
    assert send_notification_email.call(str(n.uuid)) == EmailStatus.SENT
    assert len(mail.outbox) == 1


def test_the_batch_task_sends_each_and_one_failure_is_retried_alone(citizen, phone_only, monkeypatch):
    from satupintu.notify.tasks import send_notification_emails

    phone_only.email = "budi@example.test"
    phone_only.save(update_fields=["email"])
    first, second = _notify(citizen), _notify(phone_only)
    original = services.EmailMessage.send

    def refuse_siti(self, *a, **k):
        if self.to == ["siti@example.test"]:
            raise OSError("mailbox full")
        return original(self, *a, **k)

    monkeypatch.setattr(services.EmailMessage, "send", refuse_siti)
    before = timezone.now()
    assert send_notification_emails.call([str(first.uuid), str(second.uuid)]) == {
        str(first.uuid): EmailStatus.PENDING, str(second.uuid): EmailStatus.SENT}
    assert [m.to for m in mail.outbox] == [["budi@example.test"]]
    first.refresh_from_db(), second.refresh_from_db()
    assert first.email_attempts == 1 and "mailbox full" in first.email_last_error and first.email_status == EmailStatus.PENDING
    assert second.email_status == EmailStatus.SENT
    [retry] = email_tasks()  # the failed one, alone, later
    assert retry.args_kwargs["args"] == [[str(first.uuid)]] and retry.run_after >= before + timedelta(seconds=59)
    monkeypatch.setattr(services.EmailMessage, "send", original)
    due_now(first)  # the retry's time comes
    assert send_notification_emails.call(*retry.args_kwargs["args"]) == {str(first.uuid): EmailStatus.SENT}
    assert len(mail.outbox) == 2


def test_an_unexpected_error_on_one_email_does_not_stop_the_others(citizen, phone_only, monkeypatch):
    from satupintu.notify.tasks import send_notification_emails

    phone_only.email = "budi@example.test"
    phone_only.save(update_fields=["email"])
    first, second = _notify(citizen), _notify(phone_only)
    original = services.notification_email_send

    def broken_first(*, notification_id):
        if notification_id == str(first.uuid):
            raise RuntimeError("bad row")
        return original(notification_id=notification_id)

    monkeypatch.setattr(services, "notification_email_send", broken_first)
    with pytest.raises(RuntimeError, match="bad row"):  # the task is marked failed …
        send_notification_emails.call([str(first.uuid), str(second.uuid)])
    second.refresh_from_db()
    assert second.email_status == EmailStatus.SENT and [m.to for m in mail.outbox] == [["budi@example.test"]]  # … after the rest


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


def test_requeue_queues_emails_long_past_due_once_and_each_is_sent_once(citizen, make_officer, agency):
    officer = make_officer(agency, role="verifier", email="verifier@example.test")
    lost, young, retrying, sent, lost_retry = services.notify_users(  # no on_commit here: every task was "lost"
        actor=None, recipients=[citizen], event="application.submitted", context=CTX)[0], *[
        services.notify_users(actor=None, recipients=[officer], event="application.submitted", context=CTX)[0]
        for _ in range(4)]
    now = timezone.now()
    old = now - timedelta(minutes=20)
    Notification.objects.filter(pk__in=[lost.pk, retrying.pk, sent.pk]).update(created_at=old, email_due_at=old)
    # tried once and waiting for its retry in 10 minutes; and one whose retry task never came
    Notification.objects.filter(pk=retrying.pk).update(email_attempts=1, email_due_at=now + timedelta(minutes=10))
    Notification.objects.filter(pk=lost_retry.pk).update(email_attempts=1, email_due_at=old)
    Notification.objects.filter(pk=sent.pk).update(email_status=EmailStatus.SENT)
    call_command("notify_requeue", "--minutes", "15", stdout=io.StringIO())
    queued = list(email_tasks())
    assert len(queued) == 1 and sorted(queued[0].args_kwargs["args"][0]) == sorted([str(lost.uuid), str(lost_retry.uuid)])
    entry = AuditEntry.objects.get(action="notification.emails_requeued")
    assert entry.changes == {"count": 2, "stuck_sending": 0, "failed": 0, "older_than_seconds": 900}
    # the next run (cron, minutes later) does not queue them again: they are due again from now
    assert services.notification_emails_requeue(actor=SYSTEM_ACTOR, older_than=timedelta(minutes=15)) == 0
    assert email_tasks().count() == 1
    # the task queued first and the requeued one both run: one email
    from satupintu.notify.tasks import send_notification_emails

    send_notification_emails.call([str(lost.uuid)])
    send_notification_emails.call([str(lost.uuid)])
    assert len(mail.outbox) == 1 and Notification.objects.get(pk=lost.pk).email_status == EmailStatus.SENT


def test_requeue_puts_back_an_email_whose_sender_stopped_during_the_send(citizen, make_officer, agency, monkeypatch):
    """Claimed 20 minutes ago and still `sending`: the worker died in the middle of the send. It is
    pending again, queued, and sent by the next run; one claimed a minute ago is left alone."""
    from satupintu.notify.tasks import send_notification_emails

    officer = make_officer(agency, role="verifier", email="verifier@example.test")
    stuck, busy = (services.notify_users(actor=None, recipients=[who], event="application.submitted", context=CTX)[0]
                   for who in (citizen, officer))
    claims = []

    class Stop(BaseException):  # not a mail error: the process ends here
        pass

    def die_in_send(*_args, **_kwargs):  # the worker is killed while talking to the mail server
        claims.append(Notification.objects.get(pk=stuck.pk).email_status)
        raise Stop

    monkeypatch.setattr("django.core.mail.EmailMessage.send", die_in_send)
    Notification.objects.filter(pk=stuck.pk).update(email_due_at=timezone.now() - timedelta(hours=1))  # written earlier
    with pytest.raises(Stop):
        services.notification_email_send(notification_id=str(stuck.uuid))
    monkeypatch.undo()
    assert claims == [EmailStatus.SENDING]
    claimed_at = Notification.objects.get(pk=stuck.pk).email_due_at
    assert timezone.now() - claimed_at < timedelta(minutes=1)  # the claim's time
    Notification.objects.filter(pk=stuck.pk).update(email_due_at=timezone.now() - timedelta(minutes=20))
    Notification.objects.filter(pk=busy.pk).update(email_status=EmailStatus.SENDING, email_due_at=timezone.now() - timedelta(minutes=1))
    before = email_tasks().count()
    assert services.notification_emails_requeue(actor=SYSTEM_ACTOR, older_than=timedelta(minutes=15)) == 1
    assert Notification.objects.get(pk=stuck.pk).email_status == EmailStatus.PENDING
    assert Notification.objects.get(pk=busy.pk).email_status == EmailStatus.SENDING
    assert email_tasks().count() == before + 1
    changes = AuditEntry.objects.get(action="notification.emails_requeued").changes
    assert (changes["stuck_sending"], changes["failed"]) == (1, 0)
    assert Notification.objects.get(pk=stuck.pk).email_attempts == 1  # the send that never finished counts
    send_notification_emails.call([str(stuck.uuid)])
    assert [m.to for m in mail.outbox] == [[citizen.email]]
    assert Notification.objects.get(pk=stuck.pk).email_status == EmailStatus.SENT


def test_a_send_that_dies_every_time_ends_failed_not_requeued_for_ever(citizen, settings):
    settings.SATUPINTU_NOTIFY_MAX_ATTEMPTS = 3
    n = services.notify_users(actor=None, recipients=[citizen], event="application.submitted", context=CTX)[0]
    Notification.objects.filter(pk=n.pk).update(email_status=EmailStatus.SENDING, email_attempts=2,
                                                email_due_at=timezone.now() - timedelta(minutes=20))
    before = email_tasks().count()
    assert services.notification_emails_requeue(actor=SYSTEM_ACTOR, older_than=timedelta(minutes=15)) == 0
    n.refresh_from_db()
    assert (n.email_status, n.email_attempts, n.email_due_at) == (EmailStatus.FAILED, 3, None)
    assert email_tasks().count() == before
    assert AuditEntry.objects.get(action="notification.emails_requeued").changes["failed"] == 1


def test_a_run_whose_claim_was_taken_back_does_not_overwrite_the_newer_run(citizen, monkeypatch):
    """Run A hangs in the send past notify_requeue's patience; the email is put back and run B
    sends it. When A's send finally fails, A leaves B's `sent` alone and queues no retry."""
    import smtplib

    from django.core.mail import EmailMessage

    n = services.notify_users(actor=None, recipients=[citizen], event="application.submitted", context=CTX)[0]
    real_send, calls = EmailMessage.send, []

    def send(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # run A, stuck talking to the mail server
            Notification.objects.filter(pk=n.pk).update(email_due_at=timezone.now() - timedelta(minutes=20))
            assert services.notification_emails_requeue(actor=SYSTEM_ACTOR, older_than=timedelta(minutes=15)) == 1
            assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.SENT  # run B
            raise smtplib.SMTPServerDisconnected("timed out")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", send)
    tasks_before = email_tasks().count()
    assert services.notification_email_send(notification_id=str(n.uuid)) == EmailStatus.PENDING  # A gives way
    n.refresh_from_db()
    assert n.email_status == EmailStatus.SENT and len(mail.outbox) == 1
    assert email_tasks().count() == tasks_before + 1  # the requeue's task only, no retry from A


def test_requeue_refuses_a_negative_age(citizen):
    with pytest.raises(CommandError):
        call_command("notify_requeue", "--minutes", "-15", stdout=io.StringIO())
    with pytest.raises(InvalidInput):
        services.notification_emails_requeue(actor=SYSTEM_ACTOR, older_than=timedelta(minutes=-1))
    assert not AuditEntry.objects.filter(action="notification.emails_requeued").exists()


def test_requeue_is_for_the_mall_administrator(citizen, make_officer, agency):
    from satupintu.core.errors import Forbidden

    officer = make_officer(agency, role="agency_admin")
    with pytest.raises(Forbidden):
        services.notification_emails_requeue(actor=officer, older_than=timedelta(minutes=15))
    assert not AuditEntry.objects.filter(action="notification.emails_requeued").exists()


def _aged(recipient, days_old: int, email_status=EmailStatus.SENT, read: bool = False) -> Notification:
    now = timezone.now()
    return Notification.objects.create(
        recipient=recipient, event="application.submitted", context={"tracking_number": "PK7Q2M9", "service_name": "PBG"},
        created_at=now - timedelta(days=days_old), email_status=email_status, read_at=now if read else None)


def test_old_notifications_are_pruned_once_their_email_is_done(citizen, mall_admin):
    from satupintu.notify.tasks import prune_notifications

    gone = [_aged(citizen, 181, read=True), _aged(citizen, 400), _aged(citizen, 200, EmailStatus.FAILED),
            _aged(mall_admin, 190, EmailStatus.SKIPPED)]
    kept = [_aged(citizen, 179), _aged(citizen, 300, EmailStatus.PENDING), _aged(citizen, 300, EmailStatus.SENDING),
            _aged(mall_admin, 2, read=True)]
    assert services.notifications_prune(actor=mall_admin, older_than=timedelta(days=180)) == 4
    assert set(Notification.objects.values_list("pk", flat=True)) == {n.pk for n in kept}
    assert AuditEntry.objects.get(action="notification.pruned").changes == {"count": 4, "older_than_days": 180}
    assert services.notifications_prune(actor=mall_admin, older_than=timedelta(days=180)) == 0
    assert AuditEntry.objects.filter(action="notification.pruned").count() == 1  # nothing deleted, nothing logged
    assert not Notification.objects.filter(pk__in=[n.pk for n in gone]).exists()

    assert prune_notifications.call() == 0  # the task as run_schedule queues it: NOTIFICATION_KEEP_DAYS (180)
    assert prune_notifications.call(days=100) == 1  # the 179-day-old one; the unsent e-mails stay
    out = io.StringIO()
    call_command("notify_prune", "--days", "1", stdout=out)  # the command: the 2-day-old one
    assert out.getvalue().startswith("1 notifikasi lama dihapus")
    assert sorted(Notification.objects.values_list("email_status", flat=True)) == [EmailStatus.PENDING, EmailStatus.SENDING]


def test_pruning_notifications_is_for_the_system_and_mall_admin_with_a_sane_age(citizen, agency, make_officer):
    _aged(citizen, 400)
    for actor in (citizen, make_officer(agency, role="agency_admin")):
        with pytest.raises(Exception) as exc:
            services.notifications_prune(actor=actor, older_than=timedelta(days=180))
        assert exc.value.status == 403
    with pytest.raises(InvalidInput) as exc:
        services.notifications_prune(actor=SystemActor("tests"), older_than=timedelta(days=-1))
    assert exc.value.code == "invalid_age"
    with pytest.raises(CommandError, match="negatif"):
        call_command("notify_prune", "--days", "-1")
    assert Notification.objects.count() == 1 and not AuditEntry.objects.filter(action="notification.pruned").exists()


def test_pruning_notifications_deletes_a_backlog_in_batches(citizen, mall_admin):
    for i in range(7):
        _aged(citizen, 200 + i)
    _aged(citizen, 250, EmailStatus.PENDING)
    with CaptureQueriesContext(connection) as queries:
        assert services.notifications_prune(actor=mall_admin, older_than=timedelta(days=180), batch=3) == 7
    assert sum(q["sql"].startswith("DELETE") for q in queries.captured_queries) == 3  # 3 + 3 + 1
    assert list(Notification.objects.values_list("email_status", flat=True)) == [EmailStatus.PENDING]
    assert AuditEntry.objects.get(action="notification.pruned").changes["count"] == 7
