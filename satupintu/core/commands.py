"""What the maintenance commands share."""

from contextlib import contextmanager

from django.core.management.base import CommandError

from .errors import DomainError


@contextmanager
def refusals_as_command_errors():
    """A service's refusal (bad input such as a negative age, a missing permission) ends the
    command with the service's message and no traceback; nothing was changed."""
    try:
        yield
    except DomainError as exc:
        raise CommandError(exc.message) from None
