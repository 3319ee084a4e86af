from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.core.calendar import WorkingCalendar, national_days
from satupintu.core.errors import InvalidInput


def test_nyepi_and_idul_fitri_2026_skip_five_weekdays_in_a_row():
    cal = WorkingCalendar()
    # 18–24 March 2026: cuti bersama Nyepi, Nyepi, cuti bersama, (weekend: Idul Fitri), cuti bersama ×2
    result, skipped = cal.add_working_days(date(2026, 3, 17), 1)
    assert result == date(2026, 3, 25)
    assert [d.date for d in skipped] == [date(2026, 3, d) for d in (18, 19, 20, 23, 24)]
    assert {d.kind for d in skipped} == {"public", "cuti_bersama"}


def test_local_closure_is_skipped_and_named():
    cal = WorkingCalendar({date(2026, 6, 23): "HUT Kota Pekanbaru"})
    result, skipped = cal.add_working_days(date(2026, 6, 22), 1)
    assert result == date(2026, 6, 24)
    assert skipped[0].name == "HUT Kota Pekanbaru" and skipped[0].kind == "local"


def test_zero_days_on_a_weekend_is_the_next_working_day():
    assert WorkingCalendar().add_working_days(date(2026, 11, 28), 0)[0] == date(2026, 11, 30)
    assert WorkingCalendar().add_working_days(date(2026, 11, 30), 0)[0] == date(2026, 11, 30)


def test_cuti_bersama_is_listed_for_the_year():
    days = national_days(2026)
    assert days[date(2026, 12, 24)].kind == "cuti_bersama"
    assert days[date(2026, 8, 17)].kind == "public"


@pytest.mark.parametrize("days", [-1, 3651])
def test_out_of_range_days_are_refused(days):
    with pytest.raises(InvalidInput):
        WorkingCalendar().add_working_days(date(2026, 1, 5), days)


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    n=st.integers(min_value=0, max_value=60),
    closures=st.sets(st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 6, 30)), max_size=5),
)
def test_result_is_a_working_day_and_exactly_n_working_days_later(start, n, closures):
    cal = WorkingCalendar({d: "tutup" for d in closures})
    result, skipped = cal.add_working_days(start, n)
    assert cal.is_working_day(result)
    assert result.weekday() < 5 and result not in closures and result not in national_days(result.year)
    if n > 0:
        assert cal.working_days_between(start, result) == n
        # every calendar day in between that was not counted is a weekend or a named holiday
        skipped_dates = {h.date for h in skipped}
        d = start + timedelta(days=1)
        while d < result:
            if not cal.is_working_day(d):
                assert d.weekday() >= 5 or d in skipped_dates
            d += timedelta(days=1)


@pytest.mark.django_db
class TestCalendarApi:
    def test_add_working_days(self, client, site):
        r = client.get("/api/v1/calendar/working-days/add", {"start": "2026-03-17", "days": 1})
        assert r.status_code == 200
        body = r.json()
        assert body["date"] == "2026-03-25"
        assert [h["date"] for h in body["skipped_holidays"]][0] == "2026-03-18"

    def test_site_closures_apply(self, client):
        from satupintu.catalog.tests.factories import make_site

        make_site(closures={date(2026, 6, 23): "HUT Kota Pekanbaru"})
        r = client.get("/api/v1/calendar/working-days/add", {"start": "2026-06-22", "days": 1})
        assert r.json()["date"] == "2026-06-24"

    def test_holidays_of_a_year(self, client, site):
        r = client.get("/api/v1/calendar/holidays", {"year": 2026})
        assert r.status_code == 200
        kinds = {h["date"]: h["kind"] for h in r.json()}
        assert kinds["2026-03-19"] == "public" and kinds["2026-03-20"] == "cuti_bersama"

    @pytest.mark.parametrize("params,status,code", [
        ({"start": "2026-02-30", "days": 1}, 422, "invalid_input"),
        ({"start": "2026-01-01", "days": -3}, 400, "days_out_of_range"),
        ({"start": "2026-01-01", "days": "x"}, 422, "invalid_input"),
        ({"start": "2999-01-01", "days": 1}, 400, "year_out_of_range"),
        ({"days": 1}, 422, "invalid_input"),
    ])
    def test_bad_input(self, client, site, params, status, code):
        r = client.get("/api/v1/calendar/working-days/add", params)
        assert r.status_code == status
        assert r.json()["code"] == code and r.json()["message"]

    def test_bad_year(self, client, site):
        r = client.get("/api/v1/calendar/holidays", {"year": 1800})
        assert r.status_code == 400 and r.json()["code"] == "year_out_of_range"
