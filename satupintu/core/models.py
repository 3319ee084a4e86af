from django.db import models


class AuditEntry(models.Model):
    """One link of the append-only, hash-chained audit log.

    `hash` = SHA-256 over the previous hash and this entry's canonical content, so editing,
    deleting or reordering any row breaks the chain from that row on (`manage.py audit_verify`).
    """

    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict)
    digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = "entri audit"
        verbose_name_plural = "log audit"

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The single row that serialises appends to the chain (locked only at the end of a write)."""

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
