"""Background sending: each task calls one service per item, and a failed try is queued again
(with `run_after`). Run the worker with `manage.py db_worker --no-reload`."""

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task

from satupintu.core.permissions import SystemActor

from . import services

logger = logging.getLogger(__name__)


@task()
def send_notification_emails(notification_ids: list[str]) -> dict[str, str]:
    """Send the email of each notification (UUIDs as text): the one task queued per transaction
    that wrote notifications, and the retry of one that failed (a one-element list).

    Each notification keeps its own claim, retry and failure state; an unexpected error on one
    does not stop the others, and is raised once they are done (the task is then `FAILED`).
    Returns each id's email status."""
    statuses, error = {}, None
    for notification_id in notification_ids:
        try:
            statuses[notification_id] = services.notification_email_send(notification_id=notification_id)
        except Exception as exc:
            logger.exception("notify: email %s could not be processed", notification_id)
            error = error or exc
    if error is not None:
        raise error
    return statuses


@task()
def send_notification_email(notification_id: str) -> str:
    """One notification's email (its UUID as text). Nothing queues this any more: it stays for
    tasks already queued under its name; a failed send is retried by `send_notification_emails`."""
    return services.notification_email_send(notification_id=notification_id)


@task()
def deliver_webhook(delivery_id: str) -> str:
    """`delivery_id` is the delivery's UUID (text). A failed try queues the next one (with
    `run_after`); a task that was lost is queued again by `requeue_webhook_deliveries`."""
    return services.webhook_delivery_attempt(delivery_id=delivery_id)


@task()
def requeue_emails(minutes: int = 15) -> int:
    """Background version of `manage.py notify_requeue` (queued every 15 minutes by `run_schedule`)."""
    return services.notification_emails_requeue(actor=SystemActor("notify_requeue"), older_than=timedelta(minutes=minutes))


@task()
def requeue_webhook_deliveries(minutes: int = 15) -> int:
    """Background version of `manage.py webhook_requeue` (queued every 15 minutes by `run_schedule`)."""
    return services.webhook_deliveries_requeue(actor=SystemActor("webhook_requeue"), older_than=timedelta(minutes=minutes))


@task()
def prune_webhook_deliveries(days: int | None = None) -> int:
    """Background version of `manage.py webhook_prune` (queued daily by `run_schedule`):
    finished deliveries older than `days` (default WEBHOOK_DELIVERY_KEEP_DAYS) are deleted."""
    days = settings.SATUPINTU_WEBHOOK_DELIVERY_KEEP_DAYS if days is None else days
    return services.webhook_deliveries_prune(actor=SystemActor("webhook_prune"), older_than=timedelta(days=days))


@task()
def prune_notifications(days: int | None = None) -> int:
    """Background version of `manage.py notify_prune` (queued daily by `run_schedule`):
    notifications older than `days` (default NOTIFICATION_KEEP_DAYS) are deleted."""
    days = settings.SATUPINTU_NOTIFICATION_KEEP_DAYS if days is None else days
    return services.notifications_prune(actor=SystemActor("notify_prune"), older_than=timedelta(days=days))
