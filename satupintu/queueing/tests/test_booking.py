from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import NIK_KAMPAR_M, NIK_PEKANBARU_F
from satupintu.catalog.tests.factories import SYSTEM
from satupintu.core import ids
from satupintu.core.errors import Conflict, InvalidInput, NotFound
from satupintu.queueing import selectors, services
from satupintu.queueing.models import Booking, BookingStatus, Ticket, TicketStatus

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


def next_working_day(after: date) -> date:
    from satupintu.core.calendar import WorkingCalendar

    day = after + timedelta(days=1)
    while not WorkingCalendar().is_working_day(day):
        day += timedelta(days=1)
    return day


@pytest.fixture
def group(agency):
    g = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="B", name="Disdukcapil")
    g.booking_slot_quota, g.booking_day_quota = 2, 3
    g.save()
    return g


@pytest.fixture
def day():
    return next_working_day(timezone.localdate(timezone.now(), WIB))


def at(day, hh, mm=0):
    return datetime.combine(day, time(hh, mm), WIB)


def test_book_within_hours_and_quotas(group, day):
    b = services.booking_create(actor=None, group=group, slot_start=at(day, 9, 30), nik=NIK_PEKANBARU_F)
    assert b.status == BookingStatus.BOOKED and len(b.code) == 7
    services.booking_create(actor=None, group=group, slot_start=at(day, 9, 30), phone="081234567891")
    with pytest.raises(Conflict) as full:  # slot quota 2
        services.booking_create(actor=None, group=group, slot_start=at(day, 9, 30), phone="081234567892")
    assert full.value.code == "slot_full" and full.value.details["next_free"] == at(day, 10).isoformat()
    services.booking_create(actor=None, group=group, slot_start=at(day, 10), phone="081234567893")
    with pytest.raises(Conflict) as day_full:  # day quota 3
        services.booking_create(actor=None, group=group, slot_start=at(day, 11), phone="081234567894")
    assert day_full.value.code == "slot_full" and day_full.value.details["next_free"] > at(day, 23).isoformat()


def test_one_booking_per_person_per_day(group, day):
    services.booking_create(actor=None, group=group, slot_start=at(day, 9), nik=NIK_KAMPAR_M)
    with pytest.raises(Conflict) as exc:
        services.booking_create(actor=None, group=group, slot_start=at(day, 10), nik=NIK_KAMPAR_M)
    assert exc.value.code == "booking_limit"


@pytest.mark.parametrize("when,code", [
    (lambda d: at(d, 7, 30), "slot_invalid"),    # before opening
    (lambda d: at(d, 14, 45), "slot_invalid"),   # the last slot must end by 15:00
    (lambda d: at(d, 9, 10), "slot_invalid"),    # not a slot start
    (lambda d: at(date(2026, 3, 20), 9), "slot_invalid"),  # cuti bersama Idul Fitri
    (lambda d: timezone.now() - timedelta(hours=1), "slot_past"),
    (lambda d: datetime(9999, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Etc/GMT+12")), "slot_too_far"),  # no overflow
])
def test_bad_slots_are_refused_and_nothing_stored(group, day, when, code):
    with pytest.raises((InvalidInput, Conflict)) as exc:
        services.booking_create(actor=None, group=group, slot_start=when(day), nik=NIK_KAMPAR_M)
    assert exc.value.code in (code, "slot_past")
    assert Booking.objects.count() == 0


def test_weekend_has_no_slots(group):
    saturday = date(2026, 12, 5)
    assert services.booking_slots(group, saturday) == []
    assert len(services.booking_slots(group, date(2026, 12, 7))) == 14  # 08:00–15:00 in 30-minute slots


def test_check_in_turns_a_booking_into_a_ticket_ordered_by_its_slot(group, agency, make_officer, monkeypatch):
    day = timezone.localdate(timezone.now(), WIB)
    booking = Booking.objects.create(code=ids.new_code(6), group=group, day=day, slot_start=timezone.now() - timedelta(minutes=5), nik=NIK_KAMPAR_M)
    walk_in = services.ticket_issue(actor=None, group=group, priority="lansia")
    ticket = services.booking_check_in(actor=None, code=booking.code.lower())
    assert ticket.booked_for is not None
    officer = make_officer(agency, role="front_office")
    counter = agency.counters.first()
    services.counter_open(actor=officer, counter=counter, groups=[group])
    assert services.ticket_call_next(actor=officer, counter=counter).pk == ticket.pk  # due booking before priority
    with pytest.raises(Conflict):
        services.booking_check_in(actor=None, code=booking.code)
    assert walk_in.status == TicketStatus.WAITING


def test_late_check_in_loses_the_slot_priority(group, settings):
    settings.SATUPINTU_QUEUE_LATE_GRACE_MINUTES = 10
    day = timezone.localdate(timezone.now(), WIB)
    booking = Booking.objects.create(code=ids.new_code(6), group=group, day=day, slot_start=timezone.now() - timedelta(minutes=30), phone="+6281234567890")
    ticket = services.booking_check_in(actor=None, code=booking.code)
    assert ticket.booked_for is None


def test_cancel_and_unknown_codes(group, day):
    b = services.booking_create(actor=None, group=group, slot_start=at(day, 9), nik=NIK_KAMPAR_M)
    services.booking_cancel(actor=None, code=b.code)
    with pytest.raises(Conflict):
        services.booking_cancel(actor=None, code=b.code)
    with pytest.raises(NotFound):
        services.booking_check_in(actor=None, code="ZZZZZZZ")


def test_daily_close_keeps_statistics(group, agency, make_officer, mall_admin):
    officer = make_officer(agency, role="front_office")
    counter = agency.counters.first()
    services.counter_open(actor=officer, counter=counter, groups=[group])
    for _ in range(3):
        services.ticket_issue(actor=None, group=group)
    t = services.ticket_call_next(actor=officer, counter=counter)
    services.ticket_start(actor=officer, ticket=t)
    services.ticket_finish(actor=officer, ticket=t)
    today = services.local_day(group.site)
    call_command("close_queue_day")
    assert Ticket.objects.filter(status=TicketStatus.EXPIRED).count() == 2
    rows = selectors.queue_stats(actor=mall_admin, site=group.site, start=today, end=today)
    assert rows[0]["issued"] == 3 and rows[0]["served"] == 1 and rows[0]["unserved"] == 2
    assert rows[0]["avg_service_minutes"] is not None and rows[0]["busiest_hour"] is not None
    call_command("close_queue_day")  # twice: nothing more happens
    assert Ticket.objects.filter(status=TicketStatus.EXPIRED).count() == 2


def test_wait_estimate_uses_open_counters(group, agency, make_officer, settings):
    settings.SATUPINTU_QUEUE_DEFAULT_SERVICE_MINUTES = 6
    for _ in range(4):
        services.ticket_issue(actor=None, group=group)
    assert selectors.wait_estimate_minutes(group, 4) == 24
    officer = make_officer(agency, role="front_office")
    services.counter_open(actor=officer, counter=agency.counters.first(), groups=[group])
    from satupintu.catalog.models import Counter

    second = Counter.objects.create(agency=agency, site=agency.site, code="Q2", name="Loket 2")
    services.counter_open(actor=officer, counter=second, groups=[group])
    assert selectors.wait_estimate_minutes(group, 4) == 12


class TestApi:
    def test_booking_api(self, api, group, day):
        slots = api.get(f"/queue/groups/B/slots", {"day": day.isoformat()}).json()
        assert slots[0]["remaining"] == 2 and len(slots) == 14
        r = api.post("/queue/bookings", {"group": "B", "slot_start": slots[0]["start"], "nik": NIK_KAMPAR_M})
        assert r.status_code == 201, r.content
        code = r.json()["code"]
        assert api.get(f"/queue/bookings/{code}").json()["status"] == "booked"
        r = api.post("/queue/bookings", {"group": "B", "slot_start": slots[0]["start"], "nik": NIK_KAMPAR_M})
        assert r.status_code == 409 and r.json()["code"] == "booking_limit"
        r = api.post(f"/queue/bookings/{code}/check-in")
        assert r.status_code == 409 and r.json()["code"] == "booking_other_day"
        assert api.post(f"/queue/bookings/{code}/cancel").json()["status"] == "cancelled"

    def test_stats_api_scoped(self, api, group, mall_admin, citizen, make_officer, other_agency):
        services.ticket_issue(actor=None, group=group)
        today = services.local_day(group.site).isoformat()
        rows = api.get("/queue/stats", {"start": today, "end": today}, token=api.token(mall_admin)).json()
        assert rows[0]["issued"] == 1
        foreign = make_officer(other_agency, role="front_office")
        assert api.get("/queue/stats", {"start": today, "end": today}, token=api.token(foreign)).json() == []
        assert api.get("/queue/stats", {"start": today, "end": today}, token=api.token(citizen)).status_code == 403
        assert api.get("/queue/stats", {"start": today, "end": "2020-01-01"}, token=api.token(mall_admin)).status_code == 400

    def test_stats_page_and_csv(self, client, group, mall_admin, django_assert_max_num_queries):
        from satupintu.catalog.tests.factories import make_agency

        for i in range(5):  # several groups: the live table must not query per group
            services.queue_group_create(actor=SYSTEM, agency=make_agency(group.site), prefix="CDEFG"[i], name=f"G{i}")
        for _ in range(30):
            services.ticket_issue(actor=None, group=group)
        client.force_login(mall_admin)
        with django_assert_max_num_queries(10):
            r = client.get("/antrian/statistik/")
        assert r.status_code == 200 and "30" in r.content.decode()
        r = client.get("/antrian/statistik/", {"format": "csv"})
        assert r["Content-Type"].startswith("text/csv") and b"issued" in r.content

    def test_booking_pages(self, client, group, day):
        r = client.get("/antrian/reservasi/", {"kelompok": "B", "tanggal": day.isoformat()})
        assert r.status_code == 200 and len(r.context["slots"]) == 14
        r = client.post("/antrian/reservasi/", {"group": "B", "day": day.isoformat(), "slot": at(day, 9).isoformat(),
                                                "nik": NIK_KAMPAR_M}, follow=True)
        assert r.status_code == 200 and "<svg" in r.content.decode()
        r = client.post("/antrian/reservasi/", {"group": "B", "day": day.isoformat(), "slot": "", "nik": NIK_KAMPAR_M})
        assert r.status_code == 400


def test_scanned_booking_qr_checks_in(group, client):
    day = timezone.localdate(timezone.now(), WIB)
    booking = Booking.objects.create(code=ids.new_code(6), group=group, day=day, slot_start=timezone.now(), nik=NIK_KAMPAR_M)
    r = client.post("/antrian/kiosk/", {"booking": f"http://127.0.0.1:8000/antrian/reservasi/{booking.code}/"})
    assert r.status_code == 302 and "/antrian/tiket/" in r["Location"]


def test_list_endpoints_query_counts(api, group, mall_admin, agency, django_assert_max_num_queries):
    from satupintu.catalog.tests.factories import make_service

    day = next_working_day(timezone.localdate(timezone.now(), WIB))
    svc = [make_service(agency, slug=f"s{i}", name=f"Layanan {i}") for i in range(3)]
    group.services.set(svc)
    for i in range(30):
        services.ticket_issue(actor=None, group=group, service=svc[i % 3])
    with django_assert_max_num_queries(6):
        r = api.get("/queue/groups/B/slots", {"day": day.isoformat()})
    assert len(r.json()) == 14
    today = services.local_day(group.site).isoformat()
    token = api.token(mall_admin)
    with django_assert_max_num_queries(4):
        rows = api.get("/queue/stats", {"start": today, "end": today}, token=token).json()
    assert sorted(r["service"] for r in rows) == ["Layanan 0", "Layanan 1", "Layanan 2"]
    assert sum(r["issued"] for r in rows) == 30


def test_naive_and_far_slots(api, group, day):
    naive = f"{day.isoformat()}T09:00:00"
    r = api.post("/queue/bookings", {"group": "B", "slot_start": naive, "nik": NIK_KAMPAR_M})
    assert r.status_code == 201
    assert datetime.fromisoformat(r.json()["slot_start"].replace("Z", "+00:00")) == at(day, 9)  # read as WIB
    r = api.post("/queue/bookings", {"group": "B", "slot_start": "2099-12-01T09:00:00+07:00", "phone": "081234567899"})
    assert r.status_code == 400 and r.json()["code"] == "slot_too_far"


def test_transfer_keeps_the_booking_priority(group, agency, site, make_officer):
    g2 = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="C", name="Lain")
    officer = make_officer(agency, role="front_office")
    counter = agency.counters.first()
    t = services.ticket_issue(actor=None, group=group)
    Ticket.objects.filter(pk=t.pk).update(booked_for=timezone.now() - timedelta(minutes=1))
    services.counter_open(actor=officer, counter=counter, groups=[group])
    called = services.ticket_call_next(actor=officer, counter=counter)
    moved = services.ticket_transfer(actor=officer, ticket=called, group=g2)
    assert moved.booked_for is not None


def test_display_never_replays_yesterday_and_accepts_a_naive_id(client, group, agency, monkeypatch):
    from satupintu.queueing import views

    monkeypatch.setattr(views, "STREAM_SECONDS", 0.5)
    monkeypatch.setattr(views, "POLL_SECONDS", 0.05)
    old = services.ticket_issue(actor=None, group=group)
    Ticket.objects.filter(pk=old.pk).update(status="done", counter=agency.counters.first(),
                                            called_at=timezone.now() - timedelta(days=1))
    body = b"".join(client.get("/antrian/layar/events/", HTTP_LAST_EVENT_ID="2020-01-01T00:00:00").streaming_content)
    assert b"B001" not in body


def test_a_day_not_yet_come_cannot_be_closed(group, mall_admin):
    services.ticket_issue(actor=None, group=group)
    with pytest.raises(InvalidInput) as exc:
        services.queue_day_close(actor=mall_admin, site=group.site, day=services.local_day(group.site) + timedelta(days=30))
    assert exc.value.code == "day_in_future"
    assert Ticket.objects.filter(status=TicketStatus.WAITING).count() == 1


def test_group_sync_is_idempotent_for_a_lower_case_prefix(agency, mall_admin):
    first, created = services.queue_group_sync(actor=mall_admin, agency=agency, prefix="c", name="C", services=[])
    again, created_again = services.queue_group_sync(actor=mall_admin, agency=agency, prefix="c", name="C", services=[])
    assert created and not created_again and first.pk == again.pk and again.prefix == "C"
