"""Every write of notifications and webhooks.

`notify_batch` (and `notify_users`, one message of it) and `webhook_emit` run inside the caller's
transaction (the decision they report on) and hand the sending to background tasks only once that
transaction commits: a rolled-back decision is never announced, and a failing mail server or
agency system never blocks one.
"""

import ipaddress
import json
import logging
import secrets
import socket
import http.client
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from satupintu.core import audit, revisions
from satupintu.core.errors import Conflict, InvalidInput, NotFound
from satupintu.core.permissions import require_authenticated, require_mall_admin, require_manage_agency
from satupintu.core.retention import delete_in_batches

from .events import clean_context, render, webhook_event_get
from .models import UNFINISHED_EMAIL, DeliveryStatus, EmailStatus, Notification, WebhookDelivery, WebhookEndpoint
from .signing import sign

logger = logging.getLogger(__name__)

MAX_URL_LENGTH = 500
MAX_ERROR_LENGTH = 500
PRUNE_BATCH = 5_000  # rows deleted per transaction by the pruning services


def _setting(name: str, default):
    return getattr(settings, name, default)


def backoff(attempts: int, base: int, cap: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: base × 2^(attempts-1), capped."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _enqueue(task, key, run_after=None) -> None:
    """Hand work to the task queue; a failure is logged, never raised (the decision stands).
    `key` is the task's one argument (a UUID as text, or a list of them)."""
    try:
        (task.using(run_after=run_after) if run_after else task).enqueue(key)
    except Exception:
        logger.exception("notify: could not enqueue %s(%s)", task.name, key)


def _enqueue_all(task, keys: list[str]) -> None:
    for key in keys:
        _enqueue(task, key)


@dataclass(frozen=True)
class _Sends:
    """How one kind of send (a notification's e-mail, a webhook delivery) keeps its state on its
    row, so that a task lost or a worker stopped never loses it and a duplicate run never sends
    twice: `pending` until claimed, `sending` while one run has it, then done. The `due` column is
    when a pending one is due (written with the row, moved by each retry and requeue) and, while
    sending, when it was claimed; `attempts` counts the tries."""

    model: type
    status: str
    due: str
    attempts: str
    error: str
    pending: str
    sending: str
    failed: str

    def claim(self, pk: int, **also) -> datetime | None:
        """Take the send for this run, once it is due: of two runs of its task only one gets it,
        and a second run after a failed try leaves it to the retry at its time (the tries keep
        their backoff). Returns the claim's time (see `mine`), or None when another run has it,
        it is not due yet or it is done."""
        now = timezone.now()
        due = Q(**{f"{self.due}__lte": now}) | Q(**{f"{self.due}__isnull": True})
        taken = self.model.objects.filter(due, pk=pk, **{self.status: self.pending}, **also).update(
            **{self.status: self.sending, self.due: now})
        return now if taken else None

    def mine(self, pk: int, claimed_at: datetime):
        """The row while the claim is still this run's: a run that took longer than the requeue
        allows was put back, and the send is another run's now (write the outcome through this)."""
        return self.model.objects.filter(pk=pk, **{self.status: self.sending, self.due: claimed_at})

    def status_of(self, pk: int) -> str:
        return self.model.objects.filter(pk=pk).values_list(self.status, flat=True).first() or "missing"

    def put_back_lost(self, *, older_than: timedelta, limit: int, max_attempts: int) -> tuple[list[str], int, int] | None:
        """The sends still pending `older_than` after they were due (their task was lost) and
        those still sending `older_than` after they were claimed (the worker stopped during the
        send: it counts as a try, so one whose sender dies every time ends failed instead of
        being put back for ever), the oldest first, at most `limit`, locked: each is made pending
        and due now. Returns (the UUIDs to queue again, how many were stuck sending, how many of
        those failed), or None when there were none. Runs in the caller's transaction."""
        now = timezone.now()
        rows = list(self.model.objects.select_for_update()
                    .filter(**{f"{self.status}__in": (self.pending, self.sending), f"{self.due}__lt": now - older_than})
                    .order_by(self.due, "id").values_list("pk", "uuid", self.status, self.attempts)[:limit])
        if not rows:
            return None
        stuck = [(pk, tries + 1) for pk, _u, status, tries in rows if status == self.sending]
        spent = {pk for pk, tries in stuck if tries >= max_attempts}
        a_try = {self.attempts: F(self.attempts) + 1, self.error: "stopped during the send"}
        if spent:
            self.model.objects.filter(pk__in=spent).update(**{self.status: self.failed, self.due: None}, **a_try)
        self.model.objects.filter(pk__in=[pk for pk, _t in stuck if pk not in spent]).update(
            **{self.status: self.pending, self.due: now}, **a_try)
        self.model.objects.filter(pk__in=[pk for pk, _u, status, _t in rows if status == self.pending]).update(
            **{self.due: now})
        return [str(u) for pk, u, _s, _t in rows if pk not in spent], len(stuck), len(spent)


EMAILS = _Sends(Notification, "email_status", "email_due_at", "email_attempts", "email_last_error",
                EmailStatus.PENDING, EmailStatus.SENDING, EmailStatus.FAILED)
DELIVERIES = _Sends(WebhookDelivery, "status", "next_attempt_at", "attempts", "last_error",
                    DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)


# --- in-app and email notifications ----------------------------------------------------------


def _check_link(link: str) -> str:
    link = (link or "").strip()
    if link and (not link.startswith("/") or link.startswith("//") or len(link) > 300 or "\\" in link):
        raise InvalidInput(_("Tautan notifikasi harus alamat relatif di situs ini (diawali '/')."), code="invalid_link")
    return link


@dataclass(frozen=True)
class Message:
    """One notification to write: `event` with its `context` and `link`, about `obj` (optional),
    to each distinct user of `recipients`."""

    recipients: Iterable
    event: str
    context: dict
    link: str = ""
    obj: object = None


def notify_batch(*, actor, messages: Iterable[Message]) -> list[Notification]:
    """Tell the recipients of every message, in the app now and by email after commit: one INSERT
    for all the rows, and one email task (all their ids) queued when the transaction commits.

    `actor` is who caused the events (kept for the caller's audit entry; not recorded here).
    Every message is checked before anything is written (one bad message: nothing stored); the
    rows then join the caller's transaction (no savepoint of their own: they are written with
    the decision or not at all). Recipients are de-duplicated within a message, not across
    messages. Returns the notifications in message order.
    """
    checked = [(m.recipients, m.event, clean_context(m.event, m.context), _check_link(m.link), m.obj) for m in messages]
    with transaction.atomic(savepoint=False):
        return _notify(checked)


def notify_users(*, actor, recipients, event: str, context: dict, link: str = "", obj=None) -> list[Notification]:
    """Tell each distinct recipient about `event` (`notify_batch` with one message)."""
    return notify_batch(actor=actor, messages=[Message(recipients, event, context, link, obj)])


def _object_ref(obj) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return f"{obj._meta.app_label}.{obj._meta.model_name}", str(getattr(obj, "uuid", None) or obj.pk)


def _notify(checked) -> list[Notification]:
    now = timezone.now()
    rows = []
    for recipients, event, clean, link, obj in checked:
        object_type, object_id = _object_ref(obj)
        seen = set()
        for user in recipients:
            if user is None or user.pk is None or user.pk in seen:
                continue
            seen.add(user.pk)
            has_email = bool(getattr(user, "email", None)) and user.is_active
            rows.append(Notification(
                recipient=user, event=event, context=clean, link=link, object_type=object_type, object_id=object_id,
                created_at=now, email_status=EmailStatus.PENDING if has_email else EmailStatus.SKIPPED,
                email_due_at=now if has_email else None,
            ))
    created = Notification.objects.bulk_create(rows)
    to_mail = [str(n.uuid) for n in created if n.email_status == EmailStatus.PENDING]
    if to_mail:
        from .tasks import send_notification_emails

        transaction.on_commit(lambda: _enqueue(send_notification_emails, to_mail))
    return created


@transaction.atomic
def notification_mark_read(*, actor, notification: Notification | None = None, all: bool = False) -> int:  # noqa: A002
    """Mark one of the actor's notifications read, or all of them. Returns how many changed."""
    require_authenticated(actor)
    now = timezone.now()
    if all:
        changed = Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(read_at=now)
        if changed:
            audit.record(actor=actor, action="notification.read_all", object_type="identity.user",
                         object_id=actor.uuid, changes={"count": changed})
        return changed
    if notification is None or notification.recipient_id != actor.pk:
        raise NotFound(_("Notifikasi tidak ditemukan."), code="notification_not_found")
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if changed:
        notification.read_at = now
        audit.record(actor=actor, action="notification.read", obj=notification, changes={"event": notification.event})
    return changed


REQUEUE_BATCH = 100  # ids per task when requeuing


@transaction.atomic
def notification_emails_requeue(*, actor, older_than: timedelta, limit: int = 10_000) -> int:
    """Queue again the emails still `pending` more than `older_than` after they were due (first
    send or retry): their task was lost (an enqueue that failed after the decision committed, or a
    worker stopped in the middle of a batch). Likewise the emails still `sending` more than
    `older_than` after they were claimed: the worker stopped during the send (the email may or
    may not have gone out; it is sent again rather than never). Each one requeued is pending and
    due again now, so the next run leaves it alone for another `older_than`. Safe beside a task
    that is only late: each notification is claimed before it is sent, and the rows are locked
    while they are put back. System or mall administrator only (cron: `manage.py
    notify_requeue`). Returns how many were queued."""
    require_mall_admin(actor)
    if older_than < timedelta(0):
        raise InvalidInput(_("Umur notifikasi tidak boleh negatif."), code="invalid_age")
    lost = EMAILS.put_back_lost(older_than=older_than, limit=limit, max_attempts=_setting("SATUPINTU_NOTIFY_MAX_ATTEMPTS", 5))
    if lost is None:
        return 0
    ids, stuck, spent = lost
    from .tasks import send_notification_emails

    for start in range(0, len(ids), REQUEUE_BATCH):  # in this transaction: queued with the audit entry or not at all
        send_notification_emails.enqueue(ids[start:start + REQUEUE_BATCH])
    audit.record(actor=actor, action="notification.emails_requeued", object_type="notify.notification", object_id="*",
                 changes={"count": len(ids), "stuck_sending": stuck, "failed": spent,
                          "older_than_seconds": int(older_than.total_seconds())})
    return len(ids)


def notifications_prune(*, actor, older_than: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Delete the notifications created more than `older_than` ago, read or not, once their
    e-mail is done with (sent, failed or none): messages about an application's steps, which the
    application's own history keeps, would otherwise pile up without end (a busy front office
    gathers tens of thousands a year). System or mall administrator only (cron: `manage.py
    notify_prune`). Deleted oldest first, `batch` rows per transaction; then one audit entry
    with the total, when anything was deleted. Returns how many were deleted."""
    require_mall_admin(actor)
    if older_than < timedelta(0):
        raise InvalidInput(_("Umur notifikasi tidak boleh negatif."), code="invalid_age")
    done = Notification.objects.filter(created_at__lt=timezone.now() - older_than).exclude(
        email_status__in=UNFINISHED_EMAIL)
    total = delete_in_batches(done, batch)
    if total:
        with transaction.atomic():
            audit.record(actor=actor, action="notification.pruned", object_type="notify.notification",
                         object_id="*", changes={"count": total, "older_than_days": older_than.days})
    return total


def notification_email_send(*, notification_id: str) -> str:
    """Send one notification's email (task body). On failure: record, retry later with backoff,
    give up as `failed` after SATUPINTU_NOTIFY_MAX_ATTEMPTS tries. Returns the email status."""
    n = Notification.objects.select_related("recipient").filter(uuid=notification_id).first()
    if n is None:
        return "missing"
    if n.email_status != EmailStatus.PENDING:
        return n.email_status
    claimed_at = EMAILS.claim(n.pk)  # a claim older than any send can take is put back by notify_requeue
    if claimed_at is None:
        return EMAILS.status_of(n.pk)
    mine = EMAILS.mine(n.pk, claimed_at)
    user = n.recipient
    if not user.email or not user.is_active:
        mine.update(email_status=EmailStatus.SKIPPED)
        return EmailStatus.SKIPPED
    with translation.override(settings.LANGUAGE_CODE):
        title, body = render(n.event, n.context)
        text = body
        if n.link:
            text += "\n\n" + _("Lihat: %(url)s") % {"url": _setting("SATUPINTU_PUBLIC_URL", "").rstrip("/") + n.link}
        text += "\n\n-- \n" + _("Pesan ini dikirim otomatis oleh SatuPintu; mohon tidak dibalas.")
    try:
        EmailMessage(subject=" ".join(title.split()), body=text, to=[user.email]).send()
    except Exception as exc:  # any mail failure: try again later
        attempts = n.email_attempts + 1
        gave_up = attempts >= _setting("SATUPINTU_NOTIFY_MAX_ATTEMPTS", 5)
        status = EmailStatus.FAILED if gave_up else EmailStatus.PENDING
        retry_at = timezone.now() + backoff(attempts, _setting("SATUPINTU_NOTIFY_RETRY_BASE_SECONDS", 60), 3600)
        if not mine.update(
                email_attempts=attempts, email_status=status, email_last_error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH],
                email_due_at=None if gave_up else retry_at):
            logger.warning("notify: email %s failed after its claim was taken back; left to the run that has it", n.uuid)
            return EmailStatus.PENDING
        logger.warning("notify: email %s failed (attempt %d): %s", n.uuid, attempts, exc)
        if not gave_up:  # a retry of this one notification, alone
            from .tasks import send_notification_emails

            _enqueue(send_notification_emails, [str(n.uuid)], run_after=retry_at)
        return status
    if not mine.update(email_status=EmailStatus.SENT, email_attempts=F("email_attempts") + 1, email_sent_at=timezone.now(),
                       email_last_error=""):
        # sent, but so late that notify_requeue had put it back: another run may send it again
        logger.warning("notify: email %s sent after its claim was taken back", n.uuid)
    return EmailStatus.SENT


# --- webhooks ---------------------------------------------------------------------------------


def _is_private_address(host: str) -> bool:
    """Loopback, private, link-local … addresses, which an agency's public system never has."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not ip.is_global


def _private_allowed() -> bool:
    return _setting("SATUPINTU_WEBHOOK_ALLOW_PRIVATE", True)


def _check_url(url: str) -> str:
    url = (url or "").strip()
    bad = InvalidInput(_("Alamat webhook harus URL http(s) lengkap dengan nama host."), code="invalid_url")
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises on a port out of range
    except ValueError:
        raise bad from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad
    try:
        parts.hostname.encode("idna")  # what resolving it will do: an empty or over-long label fails
    except UnicodeError:
        raise bad from None
    if parts.username or parts.password:
        raise InvalidInput(_("Alamat webhook tidak boleh memuat nama pengguna atau kata sandi."), code="invalid_url")
    if not _private_allowed() and _is_private_address(parts.hostname):
        raise InvalidInput(_("Alamat webhook tidak boleh menunjuk ke jaringan lokal."), code="private_url")
    return url


def _check_events(events) -> list[str]:
    if isinstance(events, str) or not all(isinstance(e, str) for e in events or ()):
        raise InvalidInput(_("Daftar kejadian harus berupa daftar teks."), code="invalid_events")
    clean = []
    for e in events or ():
        webhook_event_get(e)
        if e not in clean:
            clean.append(e)
    return clean


def _require_manage(actor, agency_id: int) -> None:
    require_manage_agency(actor, agency_id, _("Hanya admin instansi ini atau pengelola MPP yang boleh mengelola webhook."),
                          code="webhook_forbidden")


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


@transaction.atomic
def webhook_endpoint_create(*, actor, agency, url: str, events=()) -> tuple[WebhookEndpoint, str]:
    """Register an agency system's URL. Returns the endpoint and its secret (shown only now)."""
    _require_manage(actor, agency.pk)
    url = _check_url(url)
    events = _check_events(events)
    limit = _setting("SATUPINTU_WEBHOOK_MAX_PER_AGENCY", 50)
    if WebhookEndpoint.objects.filter(agency=agency).count() >= limit:
        raise Conflict(_("Satu instansi paling banyak memiliki %(n)d webhook.") % {"n": limit},
                       code="too_many_endpoints")
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        agency=agency, url=url, secret=secret, events=events, created_by=actor if getattr(actor, "pk", None) else None
    )
    audit.record(actor=actor, action="webhook.create", obj=endpoint,
                 changes={"agency": agency.slug, "url": url, "events": events})
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint with its delivery history; queued deliveries to it are dropped."""
    _require_manage(actor, endpoint.agency_id)
    audit.record(actor=actor, action="webhook.delete", obj=endpoint, changes={"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_rotate_secret(*, actor, endpoint: WebhookEndpoint) -> str:
    """A new secret for the endpoint; deliveries from now on are signed with it."""
    _require_manage(actor, endpoint.agency_id)
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret"])
    audit.record(actor=actor, action="webhook.rotate_secret", obj=endpoint, changes={})
    return endpoint.secret


@transaction.atomic
def webhook_endpoint_set_active(*, actor, endpoint: WebhookEndpoint, active: bool) -> WebhookEndpoint:
    """Switch an endpoint off (nothing is queued for it; deliveries already queued fail at once)
    or on again (after its system is back, or after SatuPintu switched it off for failing: the
    failures are forgotten; send the failed deliveries again with `webhook_deliveries_redeliver`).
    No change, no write."""
    _require_manage(actor, endpoint.agency_id)
    ep = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if ep.is_active == bool(active):
        return ep
    ep.is_active = bool(active)
    ep.disabled_at = None if ep.is_active else timezone.now()
    ep.disabled_by_failures = False
    if ep.is_active:
        ep.failing_since = None
    ep.save(update_fields=["is_active", "disabled_at", "disabled_by_failures", "failing_since"])
    audit.record(actor=actor, action="webhook.enabled" if ep.is_active else "webhook.disabled", obj=ep,
                 changes={"url": ep.url, "automatic": False})
    return ep


def _endpoint_outcome(endpoint: WebhookEndpoint, delivered: bool, now: datetime) -> None:
    """A delivery to `endpoint` ended: delivered, its failure streak ends; given up on, the streak
    starts, or, going on, may switch the endpoint off (`webhook_endpoint_disable_failing`, which
    checks the streak's age again under the row lock). Conditional updates, not the row as the
    task read it: another delivery may have ended in between."""
    if delivered:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now):
        return  # the streak starts now
    if _setting("SATUPINTU_WEBHOOK_DISABLE_AFTER_HOURS", 72):
        webhook_endpoint_disable_failing(endpoint_id=endpoint.pk)


@transaction.atomic
def webhook_endpoint_disable_failing(*, endpoint_id: int) -> bool:
    """Switch off an endpoint whose deliveries have been given up on for
    SATUPINTU_WEBHOOK_DISABLE_AFTER_HOURS (none delivered since), and tell its agency's admins
    (the mall administrators when it has none). By SatuPintu itself (`SystemActor`), once:
    a second call finds it off. Returns whether it switched it off."""
    from django.urls import reverse

    from satupintu.core.permissions import SystemActor
    from satupintu.identity.models import Role, User

    hours = _setting("SATUPINTU_WEBHOOK_DISABLE_AFTER_HOURS", 72)
    now = timezone.now()
    ep = WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("agency").filter(
        pk=endpoint_id, is_active=True, failing_since__isnull=False).first()
    if not hours or ep is None or now - ep.failing_since < timedelta(hours=hours):
        return False
    ep.is_active, ep.disabled_at, ep.disabled_by_failures = False, now, True
    ep.save(update_fields=["is_active", "disabled_at", "disabled_by_failures"])
    system = SystemActor("webhook")
    audit.record(actor=system, action="webhook.disabled", obj=ep,
                 changes={"url": ep.url, "automatic": True, "failing_since": ep.failing_since})
    admins = list(User.objects.filter(is_active=True, role=Role.AGENCY_ADMIN, agency_id=ep.agency_id).order_by("id")) \
        or list(User.objects.filter(is_active=True, role=Role.MALL_ADMIN).order_by("id"))
    notify_users(actor=system, recipients=admins, event="webhook.endpoint_disabled", obj=ep,
                 link=reverse("notify:webhooks"),
                 context={"url": ep.url, "agency_name": ep.agency.short_name,
                          "since": timezone.localdate(ep.failing_since)})
    return True


REDELIVER_LIMIT = 1_000  # failed deliveries sent again per call (the oldest first)


@transaction.atomic
def webhook_deliveries_redeliver(*, actor, endpoint: WebhookEndpoint, delivery: WebhookDelivery | None = None) -> int:
    """Send failed deliveries to `endpoint` again, once the agency's system takes them: the one
    `delivery`, or every failed one (the oldest first, at most REDELIVER_LIMIT a call). Each goes
    back to pending with a fresh set of tries and is queued after commit; the body is the same
    (the same `id`), so a receiver that took one already can tell. Returns how many were queued."""
    _require_manage(actor, endpoint.agency_id)
    if delivery is not None and delivery.endpoint_id != endpoint.pk:
        raise NotFound(_("Pengiriman tidak ditemukan."), code="delivery_not_found")
    if not endpoint.is_active:
        raise Conflict(_("Webhook ini nonaktif; pengiriman tidak dapat diulang."), code="webhook_inactive")
    failed = WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.FAILED)
    if delivery is not None:
        failed = failed.filter(pk=delivery.pk)
    # locked, so that two admins sending again at once queue each delivery once
    rows = list(failed.select_for_update().order_by("created_at", "id").values_list("pk", "uuid")[:REDELIVER_LIMIT])
    if delivery is not None and not rows:
        raise Conflict(_("Hanya pengiriman yang gagal yang dapat dikirim ulang."), code="delivery_not_failed")
    if not rows:
        return 0
    WebhookDelivery.objects.filter(pk__in=[pk for pk, _uuid in rows]).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now())
    changes = {"count": len(rows)}
    if delivery is not None:
        changes["delivery"] = str(delivery.uuid)
    audit.record(actor=actor, action="webhook.redeliver", obj=endpoint, changes=changes)
    from .tasks import deliver_webhook

    keys = [str(key) for _pk, key in rows]
    transaction.on_commit(lambda: _enqueue_all(deliver_webhook, keys))
    return len(rows)


WEBHOOK_REQUEUE_LIMIT = 1_000  # deliveries queued again per run (one task each: the oldest first)


@transaction.atomic
def webhook_deliveries_requeue(*, actor, older_than: timedelta, limit: int = WEBHOOK_REQUEUE_LIMIT) -> int:
    """Queue again the deliveries still `pending` more than `older_than` after they were due
    (first try, retry or redelivery): their task was lost (an enqueue that failed after the
    decision committed, or a retry whose enqueue failed). Likewise the deliveries still
    `sending` more than `older_than` after they were claimed: the worker stopped during the POST
    (the agency's system may or may not have it; it is sent again rather than never, with the
    same `id`). Each one requeued is pending and due again now, so the next run leaves it alone
    for another `older_than`. Safe beside a task that is only late: each delivery is claimed
    before it is sent, and the rows are locked while they are put back. One task per delivery
    (as every delivery is queued), the oldest first, at most `limit` a run: the next run takes
    the rest. System or mall administrator only (cron: `manage.py webhook_requeue`). Returns how
    many were queued."""
    require_mall_admin(actor)
    if older_than < timedelta(0):
        raise InvalidInput(_("Umur pengiriman webhook tidak boleh negatif."), code="invalid_age")
    lost = DELIVERIES.put_back_lost(older_than=older_than, limit=limit,
                                    max_attempts=_setting("SATUPINTU_WEBHOOK_MAX_ATTEMPTS", 8))
    if lost is None:
        return 0
    ids, stuck, spent = lost
    from .tasks import deliver_webhook

    for key in ids:  # in this transaction: queued with the audit entry or not at all
        deliver_webhook.enqueue(key)
    audit.record(actor=actor, action="webhook.deliveries_requeued", object_type="notify.webhookdelivery", object_id="*",
                 changes={"count": len(ids), "stuck_sending": stuck, "failed": spent,
                          "older_than_seconds": int(older_than.total_seconds())})
    return len(ids)


def webhook_deliveries_prune(*, actor, older_than: timedelta, batch: int = PRUNE_BATCH) -> int:
    """Delete the finished deliveries (delivered or failed) created more than `older_than` ago:
    one row per event and endpoint, kept as the agency's delivery history, would otherwise grow
    without end. Pending ones and ones being sent are never deleted (`webhook_requeue` sees
    that they are sent). System or mall administrator only (cron: `manage.py webhook_prune`).
    Returns how many were deleted.

    Deleted oldest first, `batch` rows per transaction (`core.retention.delete_in_batches`); then
    one audit entry with the total, when anything was deleted."""
    require_mall_admin(actor)
    if older_than < timedelta(0):
        raise InvalidInput(_("Umur pengiriman webhook tidak boleh negatif."), code="invalid_age")
    finished = WebhookDelivery.objects.filter(status__in=(DeliveryStatus.DELIVERED, DeliveryStatus.FAILED),
                                              created_at__lt=timezone.now() - older_than)
    total = delete_in_batches(finished, batch)  # a delivery sent again meanwhile is pending (or sending), and kept
    if total:
        with transaction.atomic():
            audit.record(actor=actor, action="webhook.deliveries_pruned", object_type="notify.webhookdelivery",
                         object_id="*", changes={"count": total, "older_than_days": older_than.days})
    return total


def webhook_emit(*, agency_ids, event: str, payload: dict) -> int:
    """Queue `event` for every active endpoint of these agencies that wants it; send after commit.
    Returns the number of deliveries created. Bad input is refused before anything is written;
    the deliveries then join the caller's transaction (no savepoint of their own)."""
    webhook_event_get(event)
    if not isinstance(payload, dict):
        raise InvalidInput(_("Isi webhook harus berupa objek."), code="invalid_payload")
    try:
        data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        raise InvalidInput(_("Isi webhook harus dapat diubah ke JSON."), code="invalid_payload") from None
    ids = {int(a) for a in agency_ids if a is not None}
    if not ids:
        return 0
    with transaction.atomic(savepoint=False):
        return _queue_deliveries(ids, event, data)


# This process's copies of which endpoints take an event, by (agencies, event): checked against
# the webhooks revision, which adding, removing, moving, switching or re-subscribing an endpoint
# changes (`core.revisions`).
_takers = revisions.ProcessCopies(revisions.WEBHOOKS)


def _endpoints_taking(ids: frozenset, event: str) -> tuple[int, ...]:
    return tuple(e.pk for e in WebhookEndpoint.objects.filter(agency_id__in=ids, is_active=True).only("pk", "events")
                 .order_by("pk") if not e.events or event in e.events)


def _queue_deliveries(ids: set[int], event: str, data: dict) -> int:
    now = timezone.now()
    key = (frozenset(ids), event)
    endpoints = _takers.read(key, lambda: _endpoints_taking(*key))
    created = WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint_id=pk, event=event, payload=data, next_attempt_at=now, created_at=now) for pk in endpoints
    ])
    if created:
        from .tasks import deliver_webhook

        keys = [str(d.uuid) for d in created]
        transaction.on_commit(lambda: _enqueue_all(deliver_webhook, keys))
    return len(created)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (the same on every retry, so the receiver can dedupe by `id`)."""
    doc = {"id": str(delivery.uuid), "event": delivery.event, "created_at": delivery.created_at.isoformat(),
           "data": delivery.payload}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder).encode()


def _addresses(host: str, port: int) -> list[str]:
    """The host's addresses, resolved once per attempt: the delivery connects only to these, so a
    name that answers differently the second time (DNS rebinding) cannot move it elsewhere."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    error: OSError | None = None
    for address in addresses:  # in the resolver's order, as socket.create_connection tries them
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address")


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to `host` (its Host header) on the addresses already checked."""

    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def connect(self):
        self.sock = _connect(self.addresses, self.port, self.timeout)


class _PinnedHTTPS(_PinnedHTTP, http.client.HTTPSConnection):
    """HTTPS to `host` (its Host header, SNI and certificate) on the addresses already checked."""

    def connect(self):
        self.sock = self._context.wrap_socket(_connect(self.addresses, self.port, self.timeout), server_hostname=self.host)


def _post(parts, port: int, addresses: list[str], body: bytes, headers: dict, timeout: float) -> int:
    """POST `body` to the URL split in `parts` on `addresses`; the answer's status. A redirect is
    an answer, not a delivery (it is not followed: it could lead the request somewhere unchecked)."""
    connection = (_PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP)(parts.hostname, port, addresses, timeout)
    try:
        connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body,
                           headers=headers)
        response = connection.getresponse()
        response.read(4096)
        return response.status
    finally:
        connection.close()


def webhook_delivery_attempt(*, delivery_id: str) -> str:
    """POST one delivery (task body). 2xx: delivered. Anything else: retry with backoff
    (SATUPINTU_WEBHOOK_RETRY_BASE_SECONDS × 2^n, capped at an hour) up to
    SATUPINTU_WEBHOOK_MAX_ATTEMPTS tries, then failed. Returns the delivery status.

    The delivery is claimed (`pending` -> `sending`) before the POST: of two runs of the same
    task (a worker's retry, a requeue beside a late task), only the one that claimed it sends,
    and the outcome is written only while the claim is still its own."""
    d = WebhookDelivery.objects.select_related("endpoint").filter(uuid=delivery_id).first()
    if d is None:
        return "missing"
    if d.status != DeliveryStatus.PENDING:
        return d.status
    # a claim older than any send can take is put back by webhook_requeue. `attempts` as read: a
    # run that got in between and already tried it wins
    claimed_at = DELIVERIES.claim(d.pk, attempts=d.attempts)
    if claimed_at is None:
        return DELIVERIES.status_of(d.pk)
    mine = DELIVERIES.mine(d.pk, claimed_at)
    endpoint = d.endpoint
    max_attempts = _setting("SATUPINTU_WEBHOOK_MAX_ATTEMPTS", 8)
    code, error, final = None, "", False
    if not endpoint.is_active:
        error, final = "endpoint inactive", True
    else:
        parts = urlsplit(endpoint.url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = _addresses(host, port)
        except (OSError, UnicodeError) as exc:  # the name does not resolve now: try again later
            addresses, error = [], f"{type(exc).__name__}: {exc}"
        if addresses and not _private_allowed() and (
                _is_private_address(host) or any(_is_private_address(a) for a in addresses)):
            error, final = "destination resolves to a private address", True
        elif addresses:
            body = delivery_body(d)
            headers = {
                "Content-Type": "application/json", "User-Agent": "SatuPintu-Webhook/1",
                "X-SatuPintu-Event": d.event, "X-SatuPintu-Delivery": str(d.uuid),
                "X-SatuPintu-Signature": sign(endpoint.secret, body),
            }
            try:
                code = _post(parts, port, addresses, body, headers, _setting("SATUPINTU_WEBHOOK_TIMEOUT", 5))
                if not 200 <= code < 300:
                    error = f"HTTP {code}"
            except Exception as exc:  # network, TLS, timeout …: try again later
                error = f"{type(exc).__name__}: {exc}"
    now = timezone.now()
    attempts = d.attempts + 1
    changes = {"attempts": attempts, "last_status_code": code, "last_error": error[:MAX_ERROR_LENGTH]}
    retry_at = None
    if code is not None and 200 <= code < 300:
        changes.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None, last_error="")
    elif final or attempts >= max_attempts:
        changes.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        retry_at = now + backoff(attempts, _setting("SATUPINTU_WEBHOOK_RETRY_BASE_SECONDS", 30), 3600)
        changes.update(status=DeliveryStatus.PENDING, next_attempt_at=retry_at)
    if not mine.update(**changes):
        # so late that webhook_requeue had put it back: the delivery is the newer run's (which
        # may POST it again: the receiver tells by its `id`)
        logger.warning("notify: webhook %s ended (%s) after its claim was taken back; left to the run that has it",
                       d.uuid, changes["status"])
        return DeliveryStatus.DELIVERED if changes["status"] == DeliveryStatus.DELIVERED else DeliveryStatus.PENDING
    if changes["status"] in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED) and endpoint.is_active:
        _endpoint_outcome(endpoint, changes["status"] == DeliveryStatus.DELIVERED, now)
    if retry_at is not None:  # a lost retry is due at `retry_at`: webhook_requeue finds it
        from .tasks import deliver_webhook

        logger.info("notify: webhook %s failed (attempt %d): %s", d.uuid, attempts, error)
        _enqueue(deliver_webhook, str(d.uuid), run_after=retry_at)
    return changes["status"]
