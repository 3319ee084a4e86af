"""The audit registry: every service records what it did here, in its own transaction.

`record()` takes the chain head's row lock as the *last* step of a service, so the lock is
held only for the remaining milliseconds before commit.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEntry

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entry_hash(*, seq, at, actor_id, actor_label, action, object_type, object_id, digest, prev_hash) -> str:
    body = canonical(
        [seq, at.isoformat(), actor_id, actor_label, action, object_type, str(object_id), digest, prev_hash]
    )
    return _sha(body)


def actor_label(actor) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "publik"
    if actor.pk is None:
        return actor.get_username()
    return f"{actor.pk}:{actor.get_username() or getattr(actor, 'phone', '') or ''}"


def record(*, actor, action: str, obj=None, object_type: str = "", object_id: Any = "", changes: dict | None = None):
    """Append one entry to the chain. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the service's transaction")
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or getattr(obj, "uuid", None) or obj.pk
    changes = json.loads(canonical(changes or {}))  # dates, UUIDs … as the JSON text they hash to
    digest = _sha(canonical(changes))
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    at = timezone.now()
    seq = head.seq + 1
    a_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    label = actor_label(actor)
    h = entry_hash(
        seq=seq, at=at, actor_id=a_id, actor_label=label, action=action, object_type=object_type,
        object_id=object_id, digest=digest, prev_hash=head.hash,
    )
    entry = AuditEntry.objects.create(
        seq=seq, at=at, actor_id=a_id, actor_label=label, action=action, object_type=object_type,
        object_id=str(object_id), changes=changes, digest=digest, prev_hash=head.hash, hash=h,
    )
    head.seq, head.hash = seq, h
    head.save(update_fields=["seq", "hash"])
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(batch_size: int = 2000) -> VerifyResult:
    """Walk the chain in order; report the first entry whose link does not hold."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    for e in AuditEntry.objects.order_by("seq").iterator(chunk_size=batch_size):
        if e.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"entri #{expected_seq} hilang (berikutnya #{e.seq})")
        if e.prev_hash != prev_hash:
            return VerifyResult(False, checked, e.seq, "prev_hash tidak cocok dengan entri sebelumnya")
        if _sha(canonical(e.changes)) != e.digest:
            return VerifyResult(False, checked, e.seq, "isi perubahan tidak cocok dengan digest")
        h = entry_hash(
            seq=e.seq, at=e.at, actor_id=e.actor_id, actor_label=e.actor_label, action=e.action,
            object_type=e.object_type, object_id=e.object_id, digest=e.digest, prev_hash=e.prev_hash,
        )
        if h != e.hash:
            return VerifyResult(False, checked, e.seq, "hash entri tidak cocok dengan isinya")
        prev_hash, expected_seq, checked = e.hash, expected_seq + 1, checked + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        return VerifyResult(False, checked, expected_seq, "entri terakhir rantai hilang atau kepala rantai diubah")
    return VerifyResult(True, checked)
