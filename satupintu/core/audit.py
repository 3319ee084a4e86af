"""The audit registry: every service records what it did here, in its own transaction.

Writing and chaining are split so that no write transaction waits on another:

* `record()` inserts an *unsealed* entry (who, what, which object, when, the digest of the
  changes) inside the service's transaction and takes no lock.
* `seal()` links pending entries into the hash chain in one short transaction of its own: it
  locks the chain head (a concurrent sealer skips instead of waiting), gives each pending entry,
  in insertion order, the next `seq`, the previous hash and its own hash, and moves the head.

`record()` asks for a seal right after its transaction commits; `manage.py audit_seal` (cron)
and the `audit_seal` task pick up whatever is left. The chain order is the seal order.
"""

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django import db
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEntry

GENESIS = "0" * 64
log = logging.getLogger(__name__)


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
    """Who acted, as stored (cut to the column: an email may be longer than the label allows)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "publik"
    if actor.pk is None:
        label = actor.get_username()
    else:
        label = f"{actor.pk}:{actor.get_username() or getattr(actor, 'phone', '') or ''}"
    return label[: AuditEntry._meta.get_field("actor_label").max_length]


def record(*, actor, action: str, obj=None, object_type: str = "", object_id: Any = "", changes: dict | None = None):
    """Add one unsealed entry. Must run inside the caller's transaction; takes no lock."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must run inside the service's transaction")
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or getattr(obj, "uuid", None) or obj.pk
    changes = json.loads(canonical(changes or {}))  # dates, UUIDs … as the JSON text they hash to
    a_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    entry = AuditEntry.objects.create(
        at=timezone.now(), actor_id=a_id, actor_label=actor_label(actor), action=action,
        object_type=object_type, object_id=str(object_id), changes=changes, digest=_sha(canonical(changes)),
    )
    if getattr(settings, "SATUPINTU_AUDIT_SEAL_ON_COMMIT", True):
        # at most one seal per transaction; a rolled-back savepoint drops its callback, so look
        # at the pending callbacks rather than keeping a flag of our own
        if not any(fn is _seal_after_commit for _sids, fn, _robust in connection.run_on_commit):
            transaction.on_commit(_seal_after_commit)
    return entry


_throttle = threading.Lock()
_next_seal_at = 0.0  # monotonic; per process, only a hint: correctness never depends on it


def _seal_after_commit() -> None:
    """Runs after the service's commit. At most one seal per process per interval: a commit
    inside the interval only wakes this process's sealer thread, which seals once when the
    interval ends, so writers pay for a seal now and then instead of after every commit."""
    global _next_seal_at
    interval = getattr(settings, "SATUPINTU_AUDIT_SEAL_INTERVAL", 0.0)
    if interval > 0:
        now = time.monotonic()
        with _throttle:
            throttled = now < _next_seal_at
            if not throttled:
                _next_seal_at = now + interval
        if throttled:
            _sealer.wake()
            return
    _seal_now()


class _Sealer:
    """One background thread per process (started on first need) with its own connection."""

    def __init__(self):
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop = False
                self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        global _next_seal_at
        try:
            while True:
                self._wake.wait()
                if self._stop:
                    return
                with _throttle:
                    delay = _next_seal_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._wake.clear()
                with _throttle:
                    _next_seal_at = time.monotonic() + getattr(settings, "SATUPINTU_AUDIT_SEAL_INTERVAL", 0.0)
                db.close_old_connections()  # drop a broken or too old connection first
                _seal_now()
                if self._stop:
                    return
        finally:
            db.connections.close_all()  # this thread's own connections only

    def stop(self, timeout: float = 5) -> None:
        """End the thread and close its connection (tests); what waits is sealed by cron."""
        with self._lock:
            thread, self._stop = self._thread, True
        if thread is not None:
            self._wake.set()
            thread.join(timeout)
        self._wake.clear()


_sealer = _Sealer()


def _seal_now() -> None:
    """Never lets a sealing problem reach the request (or the timer)."""
    try:
        seal_all(batch=getattr(settings, "SATUPINTU_AUDIT_SEAL_BATCH", 500))
    except Exception:  # noqa: BLE001 — the write is committed; cron's audit_seal will catch up
        log.exception("audit: sealing after commit failed; pending entries wait for audit_seal")


def _lock_head() -> tuple[int, str] | None:
    """The chain head's (seq, hash), locked for this transaction; None when another sealer
    holds it."""
    qs = AuditChainHead.objects.select_for_update(skip_locked=True).filter(pk=1).values_list("seq", "hash")
    head = qs.first()
    if head is not None:
        return head
    if AuditChainHead.objects.filter(pk=1).exists():
        return None  # locked by a concurrent sealer (skip_locked hid it)
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(pk=1)
    except IntegrityError:  # a concurrent sealer created it first
        return None
    return qs.first()


PENDING_FIELDS = ("id", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "digest")


def seal(limit: int = 500) -> int:
    """Link up to `limit` pending entries into the chain, oldest insert first. Returns how many
    were sealed (0 when nothing is pending or another sealer is at work)."""
    with transaction.atomic():
        head = _lock_head()
        if head is None:
            return 0
        pending = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id").values_list(*PENDING_FIELDS)[:limit])
        if not pending:
            return 0
        connection = transaction.get_connection()
        if connection.vendor == "postgresql" and not connection.savepoint_ids:
            # A seal lost in a crash is only undone: its entries are committed already and
            # are sealed again; so this commit need not wait for the disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        seq, prev = head
        links = []
        for pk, at, actor_id, label, action, object_type, object_id, digest in pending:
            seq += 1
            h = entry_hash(seq=seq, at=at, actor_id=actor_id, actor_label=label, action=action,
                           object_type=object_type, object_id=object_id, digest=digest, prev_hash=prev)
            links.append((pk, seq, prev, h))
            prev = h
        _write_links(connection, links)
        AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return len(links)


def _write_links(connection, links: list[tuple[int, int, str, str]]) -> None:
    if connection.vendor == "postgresql":  # one statement, whatever the batch size
        table = connection.ops.quote_name(AuditEntry._meta.db_table)
        rows = ", ".join(["(%s::bigint, %s::bigint, %s, %s)"] * len(links))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
                f"FROM (VALUES {rows}) AS v(id, seq, prev_hash, hash) WHERE e.id = v.id",
                [value for link in links for value in link],
            )
        return
    AuditEntry.objects.bulk_update(
        [AuditEntry(id=pk, seq=seq, prev_hash=p, hash=h) for pk, seq, p, h in links], ["seq", "prev_hash", "hash"]
    )


def seal_all(batch: int = 500) -> int:
    """Seal until nothing is pending (or another sealer holds the head)."""
    total = 0
    while n := seal(limit=batch):
        total += n
    return total


def pending_count() -> int:
    return AuditEntry.objects.filter(seq__isnull=True).count()


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""
    pending: int = 0  # entries not yet sealed: not covered by the chain yet


def verify(batch_size: int = 2000) -> VerifyResult:
    """Walk the sealed chain in order; report the first entry whose link does not hold, and
    how many entries are still waiting to be sealed."""
    pending = pending_count()
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    sealed = AuditEntry.objects.filter(seq__isnull=False).order_by("seq")
    for e in sealed.iterator(chunk_size=batch_size):
        if e.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"entri #{expected_seq} hilang (berikutnya #{e.seq})", pending)
        if e.prev_hash != prev_hash:
            return VerifyResult(False, checked, e.seq, "prev_hash tidak cocok dengan entri sebelumnya", pending)
        if _sha(canonical(e.changes)) != e.digest:
            return VerifyResult(False, checked, e.seq, "isi perubahan tidak cocok dengan digest", pending)
        h = entry_hash(
            seq=e.seq, at=e.at, actor_id=e.actor_id, actor_label=e.actor_label, action=e.action,
            object_type=e.object_type, object_id=e.object_id, digest=e.digest, prev_hash=e.prev_hash,
        )
        if h != e.hash:
            return VerifyResult(False, checked, e.seq, "hash entri tidak cocok dengan isinya", pending)
        prev_hash, expected_seq, checked = e.hash, expected_seq + 1, checked + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    head_link = (head.seq, head.hash) if head is not None else (0, GENESIS)
    if head_link != (expected_seq - 1, prev_hash):
        return VerifyResult(False, checked, expected_seq, "entri terakhir rantai hilang atau kepala rantai diubah", pending)
    return VerifyResult(True, checked, pending=pending)
