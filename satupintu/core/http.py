"""Small helpers for HTTP requests shared by pages and the API."""

import ipaddress
import os

from django.conf import settings


def trusted_proxies() -> int:
    """How many reverse proxies in front of the app append to X-Forwarded-For (0: none)."""
    value = getattr(settings, "SATUPINTU_TRUSTED_PROXIES", None)
    if value is None:
        value = os.environ.get("SATUPINTU_TRUSTED_PROXIES", "0")
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The caller's IP address.

    Without trusted proxies: REMOTE_ADDR. Behind N trusted proxies, each appends the address it
    received the request from to X-Forwarded-For, so the client is the Nth entry from the right;
    entries further left were written by the client itself and are never believed.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    n = trusted_proxies()
    if n:
        chain = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if chain:
            candidate = _valid_ip(chain[-n] if len(chain) >= n else chain[0])
            if candidate:
                return candidate
    return _valid_ip(remote) or remote or "unknown"


def int_param(params, key: str = "page", default: int = 1) -> int:
    """A whole number from a query or form; anything else reads as `default` (the selector then
    says what is wrong, e.g. a page past the end)."""
    try:
        return int(params.get(key, default))
    except (TypeError, ValueError):
        return default
