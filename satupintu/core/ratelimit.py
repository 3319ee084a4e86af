"""Rate limits shared by every server process: attempts are counted in the database.

Fixed windows: a key's attempts are counted per window of `window_seconds`, aligned to UTC,
or to local time with `offset_seconds` (the UTC offset, `core.clock.utc_offset_seconds`: a
window of a day then runs from local midnight, as "today" does for the people told "try again
tomorrow"); one atomic upsert per counted attempt (INSERT … ON CONFLICT DO UPDATE, on SQLite and
PostgreSQL alike). Keys are stored hashed (they often hold an email or phone number), with the
part before the first ":" kept readable as the scope.

    ratelimit.check(f"register:{ip}", limit=5, window_seconds=3600)   # count and maybe refuse

For "N *failed* attempts" (sign-in): `ensure_allowed()` before the attempt, `hit()` only when it
fails, `reset()` when it succeeds. Call these outside the caller's transaction, or a rollback
takes the count with it.
"""

import hashlib
import math
import random
import time

from django.db import connection, transaction

from .errors import RateLimited
from .models import RateLimitCounter

PRUNE_PROBABILITY = 0.01  # about one counted attempt in a hundred also deletes expired windows


def _now() -> float:
    return time.time()


def _hashed(key: str) -> tuple[str, str]:
    return hashlib.sha256(key.encode()).hexdigest(), key.split(":", 1)[0][:40]


def _window(window_seconds: int, now: float, offset_seconds: int = 0) -> tuple[int, int]:
    start = int((now + offset_seconds) // window_seconds) * window_seconds - offset_seconds
    return start, start + window_seconds


def _retry_after(window_end: int, now: float) -> int:
    return max(1, math.ceil(window_end - now))


def _hit(key: str, window_seconds: int, now: float, offset_seconds: int = 0) -> int:
    start, end = _window(window_seconds, now, offset_seconds)
    key_hash, scope = _hashed(key)
    q = connection.ops.quote_name
    table, k, ws, n = q(RateLimitCounter._meta.db_table), q("key"), q("window_start"), q("count")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({k}, {q('scope')}, {ws}, {q('expires_at')}, {n}) VALUES (%s, %s, %s, %s, 1) "
                f"ON CONFLICT ({k}, {ws}) DO UPDATE SET {n} = {table}.{n} + 1 RETURNING {n}",
                [key_hash, scope, start, end],
            )
            counted = cursor.fetchone()[0]
    if random.random() < PRUNE_PROBABILITY:
        prune()
    return counted


def hit(key: str, *, window_seconds: int, offset_seconds: int = 0) -> int:
    """Count one attempt for `key` in the current window; returns the count so far."""
    return _hit(key, window_seconds, _now(), offset_seconds)


def count(key: str, *, window_seconds: int, offset_seconds: int = 0) -> int:
    """Attempts counted for `key` in the current window (without counting one more)."""
    start, _end = _window(window_seconds, _now(), offset_seconds)
    row = RateLimitCounter.objects.filter(key=_hashed(key)[0], window_start=start).values_list("count", flat=True).first()
    return row or 0


def ensure_allowed(key: str, *, limit: int, window_seconds: int, offset_seconds: int = 0) -> None:
    """Raise RateLimited if `key` already used its `limit` attempts in this window."""
    now = _now()
    _start, end = _window(window_seconds, now, offset_seconds)
    if count(key, window_seconds=window_seconds, offset_seconds=offset_seconds) >= limit:
        raise RateLimited(_retry_after(end, now))


def check(key: str, *, limit: int, window_seconds: int, offset_seconds: int = 0) -> None:
    """Count this attempt; raise RateLimited (429, `retry_after` seconds) if it is over `limit`
    attempts in the current window of `window_seconds` (shifted by `offset_seconds`)."""
    now = _now()
    if _hit(key, window_seconds, now, offset_seconds) > limit:
        raise RateLimited(_retry_after(_window(window_seconds, now, offset_seconds)[1], now))


def reset(key: str) -> None:
    """Forget every counted attempt of `key` (e.g. after a successful sign-in)."""
    RateLimitCounter.objects.filter(key=_hashed(key)[0]).delete()


def prune() -> int:
    """Delete counters whose window has ended; returns how many."""
    deleted, _ = RateLimitCounter.objects.filter(expires_at__lte=int(_now())).delete()
    return deleted
