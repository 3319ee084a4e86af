from django.db import models
from django.db.models import F, Q


class AuditEntry(models.Model):
    """One link of the append-only, hash-chained audit log.

    A service inserts the entry *unsealed* (no `seq`, `prev_hash`, `hash`) in its own
    transaction; `audit.seal()` links it into the chain after commit. `hash` = SHA-256 over the
    previous hash and this entry's canonical content, so editing, deleting or reordering any
    sealed row breaks the chain from that row on (`manage.py audit_verify`).
    """

    seq = models.PositiveBigIntegerField(unique=True, null=True, blank=True)  # NULL until sealed
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict)
    digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = [F("seq").asc(nulls_last=True), "id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # the sealer's "what is still pending, oldest first" stays an index scan of the few
            # unsealed rows however long the chain grows
            models.Index(fields=["id"], condition=Q(seq__isnull=True), name="core_audit_pending_idx"),
        ]
        verbose_name = "entri audit"
        verbose_name_plural = "log audit"

    def __str__(self):
        return f"#{self.seq or '-'} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The chain's last link. Only the sealer locks it, in its own short transaction, so
    services never wait on it."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)


class RateLimitCounter(models.Model):
    """Attempts counted for one key (a hash of e.g. "login:<identifier>:<ip>") in one fixed
    window. Kept in the database so every server process shares the same count."""

    key = models.CharField(max_length=64)
    scope = models.CharField(max_length=40)  # the key's readable prefix ("login"), for operators
    window_start = models.BigIntegerField()  # Unix seconds: a multiple of the window length, less the offset
    expires_at = models.BigIntegerField(db_index=True)  # Unix seconds; pruned after this
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratelimit_key_window_unique")]

    def __str__(self):
        return f"{self.scope} {self.window_start}: {self.count}"


class Revision(models.Model):
    """A name for data that each web process keeps a copy of (API tokens with their users, the
    officers to notify, webhook endpoints, the filing catalogue), and a random token that every
    writing transaction replaces (`core.revisions`: database triggers on that data's tables; the
    catalogue's services). A process uses its
    copy only while the token it reads is the one it copied under. A random token, not a counter:
    a rolled-back write or a restored backup never brings back a value that other contents were
    once copied under."""

    name = models.CharField(max_length=40, primary_key=True)
    token = models.CharField(max_length=32)

    def __str__(self):
        return f"{self.name}: {self.token}"
