"""Messages split by weight: errors and warnings are alerts, the rest are polite status notes."""

from django import template
from django.contrib.messages import constants

register = template.Library()


@register.filter
def alerts(messages) -> list:
    """Errors and warnings: shown first, in a `role="alert"` region, with a word and an icon."""
    return [m for m in messages if m.level >= constants.WARNING]


@register.filter
def notices(messages) -> list:
    """Success and information: a `role="status"` region."""
    return [m for m in messages if m.level < constants.WARNING]
