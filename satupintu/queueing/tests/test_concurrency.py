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


# ---------------------------------------------------------------------------- an officer deactivated meanwhile

def in_thread(fn, outcome: dict, name: str) -> threading.Thread:
    """Run `fn` in a thread of its own (its own connection); its exception, if any, in `outcome`."""
    def run():
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - asserted by the caller
            outcome[name] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for_lock_waiters(n: int) -> None:
    """Until `n` other connections of this database wait for a lock (PostgreSQL), 10 s at most."""
    from time import monotonic, sleep

    deadline = monotonic() + 10
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'")
            waiting = cursor.fetchone()[0]
        if waiting >= n:
            return
        assert monotonic() < deadline, f"{waiting} of {n} connections waiting for a lock after 10 s"
        sleep(0.05)


def join_all(threads) -> None:
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread still runs after 30 s"


@pytest.fixture
def two_counters(agency, make_officer, pbg):
    from satupintu.identity.models import User

    admin = make_officer(agency, role="agency_admin", email="admin.dpmptsp@example.test")
    clerk = make_officer(agency, role="front_office", email="loket.dpmptsp@example.test")
    group = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="A", name="Perizinan", services=[pbg])
    first = agency.counters.order_by("pk").first()
    second = Counter.objects.create(agency=agency, site=agency.site, code="T2", name="Loket T2")
    return User.objects.get(pk=admin.pk), clerk, group, first, second


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL (SQLite runs one writer at a time)")
def test_closing_the_day_and_deactivating_an_officer_with_two_counters_do_not_deadlock(two_counters, mall_admin):
    """The officer's two sessions lie in the table against their counters' order; a call at the
    first counter holds its session while the deactivation (counter order) and the day's close
    queue up behind it. Both must lock in the same order, or one of them dies of a deadlock."""
    from django.db import transaction

    from satupintu.identity import services as identity

    admin, clerk, group, first, second = two_counters
    services.counter_open(actor=clerk, counter=second, groups=[group])  # stored first
    services.counter_open(actor=clerk, counter=first, groups=[group])
    outcome, held, release = {}, threading.Event(), threading.Event()

    def call_in_progress():
        with transaction.atomic():
            services._open_session(first)
            held.set()
            release.wait(20)

    threads = [in_thread(call_in_progress, outcome, "call")]
    assert held.wait(10)
    threads.append(in_thread(lambda: identity.officer_update(actor=admin, officer=clerk, is_active=False),
                             outcome, "deactivate"))
    wait_for_lock_waiters(1)
    threads.append(in_thread(lambda: services.queue_day_close(actor=mall_admin, site=first.site,
                                                             day=services.local_day(first.site)), outcome, "day"))
    wait_for_lock_waiters(2)
    release.set()
    join_all(threads)
    assert outcome == {}
    assert not services.CounterSession.objects.filter(closed_at__isnull=True).exists()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks: PostgreSQL (SQLite runs one writer at a time)")
def test_a_counter_opened_while_its_officer_is_deactivated_is_refused(two_counters):
    """The "open" click passed its permission check with the officer as signed in, and waits for
    the counter (another click holds it) while the deactivation commits: it must not open the
    counter in the name of someone who can no longer sign in."""
    from django.db import transaction

    from satupintu.core.errors import Forbidden
    from satupintu.identity import services as identity
    from satupintu.identity.models import User

    admin, clerk, group, first, _second = two_counters
    signed_in = User.objects.get(pk=clerk.pk)
    outcome, held, release = {}, threading.Event(), threading.Event()

    def other_click():
        with transaction.atomic():
            Counter.objects.select_for_update().get(pk=first.pk)
            held.set()
            release.wait(20)

    threads = [in_thread(other_click, outcome, "other")]
    assert held.wait(10)
    threads.append(in_thread(lambda: services.counter_open(actor=signed_in, counter=first, groups=[group]),
                             outcome, "open"))
    wait_for_lock_waiters(1)  # the "open" click waits for the counter
    identity.officer_update(actor=admin, officer=clerk, is_active=False)
    release.set()
    join_all(threads)
    assert isinstance(outcome.get("open"), Forbidden) and outcome["open"].code == "account_inactive"
    assert not services.CounterSession.objects.filter(officer=clerk, closed_at__isnull=True).exists()


def test_an_officer_deactivated_since_signing_in_cannot_open_a_counter(two_counters):
    from satupintu.core.errors import Forbidden
    from satupintu.core.models import AuditEntry
    from satupintu.identity.models import User

    _admin, clerk, group, first, _second = two_counters
    User.objects.filter(pk=clerk.pk).update(is_active=False)  # `clerk` is the request's copy, still active
    before = AuditEntry.objects.count()
    with pytest.raises(Forbidden) as exc:
        services.counter_open(actor=clerk, counter=first, groups=[group])
    assert exc.value.code == "account_inactive"
    assert not services.CounterSession.objects.exists() and AuditEntry.objects.count() == before
