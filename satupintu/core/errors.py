"""Domain errors: raised by services and selectors, turned into 4xx answers by the API and pages.

Each error has a stable machine `code` and a human `message` (Bahasa Indonesia by default,
translated through gettext).
"""

from typing import Any


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.details = details


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RateLimited(DomainError):
    """Too many attempts: answered 429 with a `Retry-After` header of `retry_after` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, message: str | None = None):
        from django.utils.translation import gettext as _

        self.retry_after = max(1, int(retry_after))
        super().__init__(
            message or _("Terlalu banyak percobaan. Coba lagi dalam %(seconds)d detik.") % {"seconds": self.retry_after},
            details={"retry_after": self.retry_after},
        )
