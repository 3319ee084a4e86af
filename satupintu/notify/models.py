import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Menunggu")
    SENDING = "sending", _("Sedang dikirim")  # claimed by one task run: a duplicate run does not send again
    SENT = "sent", _("Terkirim")
    FAILED = "failed", _("Gagal")
    SKIPPED = "skipped", _("Tanpa email")


UNFINISHED_EMAIL = (EmailStatus.PENDING, EmailStatus.SENDING)  # notify_requeue looks at these


class Notification(models.Model):
    """One message to one person about one event. Its title and text are rendered when shown,
    from `event` and `context`, in the reader's language."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=64)
    context = models.JSONField(default=dict, blank=True)  # strings only (dates as ISO text)
    link = models.CharField(max_length=300, blank=True)  # a relative URL on this site
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=8, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_last_error = models.TextField(blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    # when a pending email is due to be tried (its task's time): written with the row, moved by
    # each retry and each requeue; while `sending`, when it was claimed. notify_requeue finds
    # the ones long past it
    email_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notifikasi")
        verbose_name_plural = _("notifikasi")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notify_inbox"),
            models.Index(fields=["created_at", "id"], name="notify_age"),  # notify_prune, oldest first
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notify_unread"),
            # emails not sent yet, by when they were due (or claimed), read by notify_requeue: the
            # status is a column, not a partial index's condition, so that the plan PostgreSQL may
            # keep for a statement prepared on a worker's connection can use it
            models.Index(fields=["email_status", "email_due_at"], name="notify_mail_unfinished"),
        ]

    def __str__(self):
        return f"{self.event} → {self.recipient_id}"


class WebhookEndpoint(models.Model):
    """An agency system's URL that receives signed JSON events. The secret signs each request;
    it is kept because signing needs it, and shown to the agency only when it is made."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey("catalog.Agency", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(max_length=500)
    secret = models.CharField(max_length=100)
    events = models.JSONField(default=list, blank=True)  # empty: every event
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # the first delivery given up on since the last one delivered (none: the last one got through)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by_failures = models.BooleanField(default=False)  # by SatuPintu, after failing too long

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhook")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agency", "-created_at"], name="notify_endpoint_agency")]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Menunggu")
    SENDING = "sending", _("Sedang dikirim")  # claimed by one task run: a duplicate run does not POST again
    DELIVERED = "delivered", _("Terkirim")
    FAILED = "failed", _("Gagal")


UNFINISHED_DELIVERY = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)  # webhook_requeue looks at these


class WebhookDelivery(models.Model):
    """One event sent (or being retried) to one endpoint."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # when a pending delivery is due to be tried (its task's time): written with the row, moved by
    # each retry, each requeue and each redelivery; while `sending`, when it was claimed.
    # webhook_requeue finds the ones long past it
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("pengiriman webhook")
        verbose_name_plural = _("pengiriman webhook")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="notify_delivery_endpoint"),
            models.Index(fields=["created_at", "id"], name="notify_delivery_age"),  # webhook_prune
            # deliveries not finished yet, by when they were due (or claimed), read by
            # webhook_requeue: the status is a column, not a partial index's condition, so that
            # the plan PostgreSQL may keep for a statement prepared on a worker's connection can use it
            models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_unfinished"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint_id} ({self.status})"
