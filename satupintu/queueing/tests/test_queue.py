from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satupintu.catalog.tests.factories import SYSTEM, make_service
from satupintu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from satupintu.queueing import services
from satupintu.queueing.models import Ticket, TicketStatus
from satupintu.queueing.ordering import call_key, call_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(agency):
    svc = make_service(agency, name="Perekaman KTP-el", slug="ktp")
    return services.queue_group_create(actor=SYSTEM, agency=agency, prefix="A", name="Kependudukan", services=[svc])


@pytest.fixture
def counter(agency):
    return agency.counters.first()


@pytest.fixture
def officer(agency, make_officer):
    return make_officer(agency, role="front_office")


def test_numbers_per_group_and_day_with_wrap(agency, group):
    small = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="B", name="Kecil", number_start=7, number_wrap=9)
    shown = [services.ticket_issue(actor=None, group=small).display for _ in range(4)]
    assert shown == ["B007", "B008", "B009", "B007"]
    assert services.ticket_issue(actor=None, group=group).display == "A001"
    assert len({t.code for t in Ticket.objects.all()}) == Ticket.objects.count()


def test_bad_issue_input_changes_nothing(group, other_agency):
    foreign = make_service(other_agency, slug="lain")
    for kwargs in ({"priority": "vip"}, {"nik": "123"}, {"phone": "12"}, {"service": foreign}):
        with pytest.raises(InvalidInput):
            services.ticket_issue(actor=None, group=group, **kwargs)
    assert Ticket.objects.count() == 0


def test_call_order_bookings_then_priority_then_arrival(group, counter, officer):
    plain = services.ticket_issue(actor=None, group=group)
    elderly = services.ticket_issue(actor=None, group=group, priority="lansia")
    child = services.ticket_issue(actor=None, group=group, priority="anak")
    booked = services.ticket_issue(actor=None, group=group)
    Ticket.objects.filter(pk=booked.pk).update(booked_for=timezone.now() - timedelta(minutes=1))
    services.counter_open(actor=officer, counter=counter, groups=[group])
    order = []
    for _ in range(4):
        t = services.ticket_call_next(actor=officer, counter=counter)
        order.append(t.pk)
        services.ticket_start(actor=officer, ticket=t)
        services.ticket_finish(actor=officer, ticket=t)
    assert order == [booked.pk, elderly.pk, child.pk, plain.pk]
    with pytest.raises(NotFound):
        services.ticket_call_next(actor=officer, counter=counter)


def test_counter_rules(group, counter, officer, other_agency, make_officer):
    services.ticket_issue(actor=None, group=group)
    with pytest.raises(Conflict):  # not open
        services.ticket_call_next(actor=officer, counter=counter)
    foreign = make_officer(other_agency, role="front_office")
    with pytest.raises(Forbidden):
        services.counter_open(actor=foreign, counter=counter, groups=[group])
    services.counter_open(actor=officer, counter=counter, groups=[group])
    services.counter_pause(actor=officer, counter=counter, paused=True)
    with pytest.raises(Conflict):
        services.ticket_call_next(actor=officer, counter=counter)
    services.counter_pause(actor=officer, counter=counter, paused=False)
    ticket = services.ticket_call_next(actor=officer, counter=counter)
    with pytest.raises(Conflict):  # one visitor at a time
        services.ticket_call_next(actor=officer, counter=counter)
    with pytest.raises(Forbidden):
        services.ticket_no_show(actor=foreign, ticket=ticket)


def test_recall_limit_then_no_show(group, counter, officer, settings):
    settings.SATUPINTU_QUEUE_MAX_RECALLS = 2
    services.ticket_issue(actor=None, group=group)
    services.counter_open(actor=officer, counter=counter, groups=[group])
    ticket = services.ticket_call_next(actor=officer, counter=counter)
    services.ticket_recall(actor=officer, ticket=ticket)
    services.ticket_recall(actor=officer, ticket=ticket)
    with pytest.raises(Conflict):
        services.ticket_recall(actor=officer, ticket=ticket)
    services.ticket_no_show(actor=officer, ticket=ticket)
    with pytest.raises(Conflict):  # recalling a finished ticket
        services.ticket_recall(actor=officer, ticket=ticket)
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.NO_SHOW


def test_transfer_keeps_the_original_arrival(group, counter, officer, agency, site):
    from satupintu.catalog.tests.factories import make_agency

    bpjs = make_agency(site, slug="bpjs-kesehatan", short_name="BPJS Kesehatan")
    bpjs_group = services.queue_group_create(actor=SYSTEM, agency=bpjs, prefix="J", name="JKN")
    first = services.ticket_issue(actor=None, group=group)
    later = services.ticket_issue(actor=None, group=bpjs_group)
    services.counter_open(actor=officer, counter=counter, groups=[group])
    called = services.ticket_call_next(actor=officer, counter=counter)
    moved = services.ticket_transfer(actor=officer, ticket=called, group=bpjs_group)
    assert moved.arrival_at == first.arrival_at < later.arrival_at
    bpjs_officer_counter = bpjs.counters.first()
    from satupintu.identity.services import officer_create

    bpjs_officer = officer_create(actor=SYSTEM, email="fo@bpjs.test", full_name="FO", role="front_office",
                                  password="Sandi-Rahasia-2026", agency=bpjs)
    services.counter_open(actor=bpjs_officer, counter=bpjs_officer_counter, groups=[bpjs_group])
    assert services.ticket_call_next(actor=bpjs_officer, counter=bpjs_officer_counter).pk == moved.pk
    assert Ticket.objects.get(pk=first.pk).status == TicketStatus.TRANSFERRED


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["", "lansia", "disabilitas", "ibu_hamil_menyusui", "anak"]),
                          st.integers(-120, 120), st.integers(0, 600), st.booleans()), min_size=1, max_size=15))
def test_database_order_is_the_ordering_function(group, tickets):
    Ticket.objects.all().delete()
    now = timezone.now()
    for priority, booking_offset, arrival_offset, booked in tickets:
        t = services.ticket_issue(actor=None, group=group, priority=priority)
        Ticket.objects.filter(pk=t.pk).update(
            arrival_at=now - timedelta(seconds=arrival_offset),
            booked_for=(now + timedelta(minutes=booking_offset)) if booked else None,
        )
    rows = list(Ticket.objects.all())
    assert [t.pk for t in Ticket.objects.order_by(*call_order(now))] == [t.pk for t in sorted(rows, key=lambda t: call_key(t, now))]
