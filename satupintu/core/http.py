"""Small helpers for HTTP requests shared by pages and the API."""

import ipaddress

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import InvalidInput


def trusted_proxies() -> int:
    """How many reverse proxies in front of the app append to X-Forwarded-For (0: none)."""
    return max(0, settings.SATUPINTU_TRUSTED_PROXIES)


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
    """A whole number from a query or form: `default` when absent or empty, a 400 when it is not
    a number (the selector then judges the value, e.g. a page past the end is a 404)."""
    value = params.get(key, "")
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("%(key)s harus berupa angka.") % {"key": key}, code="invalid_number") from None
