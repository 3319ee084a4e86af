"""Background sending: each task calls one service and re-enqueues itself (with `run_after`)
when a try fails. Run the worker with `manage.py db_worker --no-reload`."""

from django.tasks import task

from . import services


@task()
def send_notification_email(notification_id: str) -> str:
    """`notification_id` is the notification's UUID (text)."""
    return services.notification_email_send(notification_id=notification_id)


@task()
def deliver_webhook(delivery_id: str) -> str:
    """`delivery_id` is the delivery's UUID (text)."""
    return services.webhook_delivery_attempt(delivery_id=delivery_id)
