"""Working-day calendar (*hari kerja*): Monday–Friday minus national public holidays, joint
leave days (*cuti bersama*) and the site's local closures.

National days come from the `holidays` package (Indonesia, categories public + government).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.utils.translation import gettext as _

from .errors import InvalidInput

MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_DAYS = 3650

PUBLIC = "public"
CUTI_BERSAMA = "cuti_bersama"
LOCAL = "local"


@dataclass(frozen=True)
class NonWorkingDay:
    date: date
    name: str
    kind: str  # public | cuti_bersama | local


@lru_cache(maxsize=256)
def national_days(year: int) -> dict[date, NonWorkingDay]:
    """Public holidays and cuti bersama of one year (static reference data, safe to memoise)."""
    _check_year(year)
    days: dict[date, NonWorkingDay] = {}
    for category, kind in (("government", CUTI_BERSAMA), ("public", PUBLIC)):
        for d, name in holidays.country_holidays("ID", categories=(category,), years=year).items():
            days[d] = NonWorkingDay(d, name, kind)
    return days


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInput(
            _("Tahun %(year)s di luar jangkauan kalender (%(min)s–%(max)s).") % {"year": year, "min": MIN_YEAR, "max": MAX_YEAR},
            code="year_out_of_range"
        )


class WorkingCalendar:
    def __init__(self, closures: Mapping[date, str] | None = None):
        self.closures = dict(closures or {})

    def non_working_days(self, year: int) -> list[NonWorkingDay]:
        days = dict(national_days(year))
        for d, reason in self.closures.items():
            if d.year == year and d not in days:
                days[d] = NonWorkingDay(d, reason, LOCAL)
        return sorted(days.values(), key=lambda x: x.date)

    def holiday(self, d: date) -> NonWorkingDay | None:
        if d in self.closures:
            return national_days(d.year).get(d) or NonWorkingDay(d, self.closures[d], LOCAL)
        return national_days(d.year).get(d)

    def is_working_day(self, d: date) -> bool:
        return d.weekday() < 5 and self.holiday(d) is None

    def add_working_days(self, start: date, days: int) -> tuple[date, list[NonWorkingDay]]:
        """The `days`-th working day after `start`, and the weekday holidays skipped on the way.

        `days = 0` means "the same day": `start` itself, or the next working day if `start` is not one.
        """
        if not 0 <= days <= MAX_DAYS:
            raise InvalidInput(_("Jumlah hari kerja harus 0–%(max)s.") % {"max": MAX_DAYS}, code="days_out_of_range")
        _check_year(start.year)
        skipped: list[NonWorkingDay] = []
        current, counted = start, 0

        def step(d: date) -> bool:
            if d.weekday() >= 5:
                return False
            h = self.holiday(d)
            if h is not None:
                skipped.append(h)
                return False
            return True

        if days == 0:
            while not step(current):
                current += timedelta(days=1)
            return current, skipped
        while counted < days:
            current += timedelta(days=1)
            _check_year(current.year)
            if step(current):
                counted += 1
        return current, skipped

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]."""
        n, d = 0, start
        while d < end:
            d += timedelta(days=1)
            if self.is_working_day(d):
                n += 1
        return n
