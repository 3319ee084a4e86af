"""Webhook signatures: `X-SatuPintu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
`f"{t}.{body}"` with the endpoint's secret. Receivers check it with `verify_signature`."""

import hashlib
import hmac
import time


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body` signed now (or at `timestamp`)."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes | str, tolerance: int = 300, now: float | None = None) -> bool:
    """True when `header` signs `body` with `secret` and its time is within `tolerance` seconds
    of now (a replayed old request fails). Several `v1=` values (during a secret rotation) may
    be present; one match is enough."""
    if isinstance(body, str):
        body = body.encode()
    ts, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            ts = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if ts is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, c) for c in candidates)
