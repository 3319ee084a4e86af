"""The SLA clock in working days (*hari kerja*). A day counts when it is a working day of the
site's calendar (no weekend, public holiday, cuti bersama or local closure) and the file was
not with the applicant for correction. Pure functions: the tests drive them directly."""

from collections.abc import Iterable
from datetime import date, timedelta

from satupintu.core.calendar import WorkingCalendar

MAX_SPAN = 3650


def paused_days(pauses: Iterable[tuple[date, date | None]], until: date) -> set[date]:
    """Days in [started, ended) of each pause: the day the file went back to the applicant does
    not count, the day it came back does (so a stage returned on its last day is due again on the
    day it resumes, not already late). An open pause runs through `until`."""
    days: set[date] = set()
    for started, ended in pauses:
        end = ended - timedelta(days=1) if ended is not None else until
        d = started
        while d <= end:
            days.add(d)
            d += timedelta(days=1)
    return days


def counts(cal: WorkingCalendar, d: date, paused: set[date]) -> bool:
    return d not in paused and cal.is_working_day(d)


def due_date(cal: WorkingCalendar, start: date, days: int, paused: set[date]) -> date:
    """The day on which `days` counted days have passed since `start` (`start` itself does not
    count; with 0 days it is `start`, or the next counted day if `start` does not count)."""
    d = start
    if days == 0:
        for _ in range(MAX_SPAN):
            if counts(cal, d, paused):
                return d
            d += timedelta(days=1)
        raise ValueError("no working day within ten years")
    counted = 0
    for _ in range(MAX_SPAN):
        d += timedelta(days=1)
        if counts(cal, d, paused):
            counted += 1
            if counted == days:
                return d
    raise ValueError("no working day within ten years")


def elapsed(cal: WorkingCalendar, start: date, today: date, paused: set[date]) -> int:
    """Counted days in (start, today]."""
    n, d = 0, start
    while d < today:
        d += timedelta(days=1)
        if counts(cal, d, paused):
            n += 1
    return n


def remaining(cal: WorkingCalendar, today: date, due: date) -> int:
    """Working days left until `due` (negative when overdue), ignoring pauses to come."""
    if due >= today:
        return cal.working_days_between(today, due)
    return -cal.working_days_between(due, today)
