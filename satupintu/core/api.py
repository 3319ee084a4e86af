from datetime import date

from ninja import Router, Schema

from satupintu.catalog.selectors import site_calendar, site_current

router = Router(tags=["calendar"])


class HolidayOut(Schema):
    date: date
    name: str
    kind: str  # public | cuti_bersama | local


class WorkingDaysOut(Schema):
    start: date
    days: int
    date: date
    skipped_holidays: list[HolidayOut]


@router.get("/working-days/add", response=WorkingDaysOut, summary="N-th working day after a date")
def working_days_add(request, start: date, days: int):
    """The `days`-th *hari kerja* after `start` (weekends, public holidays, cuti bersama and the
    site's local closures skipped), with the weekday holidays passed on the way."""
    result, skipped = site_calendar(site_current()).add_working_days(start, days)
    return {"start": start, "days": days, "date": result, "skipped_holidays": skipped}


@router.get("/holidays", response=list[HolidayOut], summary="Non-working days of a year")
def holidays(request, year: int):
    return site_calendar(site_current()).non_working_days(year)
