"""Today's date at a site, in its own time zone (Pekanbaru: WIB, UTC+7): the day deadlines, queue
days and "complete if filed today" read, never the server's own date."""

from datetime import date
from zoneinfo import ZoneInfo

from django.utils import timezone


def site_today(site, now=None) -> date:
    """`now` (an aware datetime) defaults to the current time; no site: the server's zone."""
    now = now or timezone.now()
    return timezone.localtime(now, ZoneInfo(site.timezone)).date() if site is not None else timezone.localdate(now)


def utc_offset_seconds() -> int:
    """The deployment's UTC offset (TIME_ZONE, whatever zone is active) now, in seconds (WIB:
    25,200). For day windows that start at local midnight (in a zone with daylight saving time
    the window moves by an hour at the switch; Indonesia has none)."""
    return int(timezone.localtime(timezone.now(), timezone.get_default_timezone()).utcoffset().total_seconds())
