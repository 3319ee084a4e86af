"""Today's date at the site (its own time zone): the day the SLA clock reads. One function so
tests can move time."""

from datetime import date
from zoneinfo import ZoneInfo

from django.utils import timezone


def today(site) -> date:
    return timezone.localtime(timezone.now(), ZoneInfo(site.timezone)).date()
