"""Many kiosks issuing and many counters calling at the same instant: no number issued twice,
no ticket called twice, none lost — on whichever engine DATABASE_URL selects (CI runs both)."""

import threading

import pytest
from django.db import connection

from satupintu.catalog.models import Counter
from satupintu.catalog.tests.factories import SYSTEM
from satupintu.core.errors import NotFound
from satupintu.queueing import services
from satupintu.queueing.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db(transaction=True)

COUNTERS, TICKETS = 20, 500


def run_threads(n, target):
    barrier = threading.Barrier(n)
    errors = []

    def wrapped(i):
        try:
            barrier.wait()
            target(i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors[:5]


def test_concurrent_issue_and_call(agency, make_officer):
    group = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="A", name="Disdukcapil")
    officer = make_officer(agency, role="front_office")
    counters = [agency.counters.first()] + [
        Counter.objects.create(agency=agency, site=agency.site, code=f"C{i:02d}", name=f"Loket {i}") for i in range(COUNTERS - 1)
    ]
    per_kiosk = TICKETS // COUNTERS
    run_threads(COUNTERS, lambda i: [services.ticket_issue(actor=None, group=group) for _ in range(per_kiosk)])
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert sorted(numbers) == list(range(1, TICKETS + 1))  # none twice, none skipped

    for c in counters:
        services.counter_open(actor=officer, counter=c, groups=[group])
    called: list[list[int]] = [[] for _ in range(COUNTERS)]

    def work(i):
        while True:
            try:
                ticket = services.ticket_call_next(actor=officer, counter=counters[i])
            except NotFound:
                return
            called[i].append(ticket.pk)
            services.ticket_start(actor=officer, ticket=ticket)
            services.ticket_finish(actor=officer, ticket=ticket)

    run_threads(COUNTERS, work)
    all_called = [pk for per in called for pk in per]
    assert len(all_called) == len(set(all_called)) == TICKETS  # no duplicates, nothing lost
    assert Ticket.objects.filter(status=TicketStatus.DONE).count() == TICKETS
    assert sum(1 for per in called if per) > 1  # the work really was shared between counters


def test_double_clicks_on_one_counter_call_one_ticket(agency, make_officer):
    from satupintu.core.errors import Conflict

    group = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="A", name="Disdukcapil")
    officer = make_officer(agency, role="front_office")
    counter = agency.counters.first()
    for _ in range(6):
        services.ticket_issue(actor=None, group=group)
    run_threads(4, lambda i: None)  # warm the thread/connection machinery
    opened = []

    def open_counter(i):
        try:
            services.counter_open(actor=officer, counter=counter, groups=[group])
            opened.append(i)
        except Conflict:
            pass

    run_threads(4, open_counter)
    assert len(opened) == 1
    outcomes = []

    def click(i):
        try:
            outcomes.append(services.ticket_call_next(actor=officer, counter=counter).pk)
        except Conflict:
            outcomes.append("busy")

    run_threads(4, click)
    assert len([o for o in outcomes if o != "busy"]) == 1
    assert Ticket.objects.filter(counter=counter, status=TicketStatus.CALLED).count() == 1


def test_one_booking_per_person_across_groups_under_concurrency(agency):
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from satupintu.core.calendar import WorkingCalendar
    from satupintu.core.errors import Conflict
    from satupintu.queueing.models import Booking

    groups = [services.queue_group_create(actor=SYSTEM, agency=agency, prefix=p, name=p) for p in "ABCD"]
    day = timezone.localdate(timezone.now(), ZoneInfo("Asia/Jakarta")) + timedelta(days=1)
    while not WorkingCalendar().is_working_day(day):
        day += timedelta(days=1)
    slot = datetime.combine(day, time(9), ZoneInfo("Asia/Jakarta"))

    def book(i):
        try:
            services.booking_create(actor=None, group=groups[i], slot_start=slot, nik="1401021203880002")
        except Conflict:
            pass

    run_threads(4, book)
    assert Booking.objects.count() == 1
