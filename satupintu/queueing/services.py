"""Every write to the queue: issuing tickets, opening counters, calling and serving.

Concurrency: issuing locks the group's day sequence row; calling locks the chosen ticket with
SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, so two counters never take the same ticket. On
SQLite every write transaction starts IMMEDIATE (settings), which serialises them the same way.
"""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.core import audit, ids
from satupintu.core.clock import site_today
from satupintu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from satupintu.core.permissions import is_mall_admin, require_authenticated, require_mall_admin
from satupintu.identity.models import User
from satupintu.identity.nik import parse_nik
from satupintu.identity.phone import normalise_phone

from .models import Booking, BookingStatus, CounterSession, DaySequence, Priority, QueueGroup, Ticket, TicketStatus
from .ordering import call_order


def priority_weight(priority: str) -> int:
    return settings.SATUPINTU_QUEUE_PRIORITY_WEIGHTS.get(priority, 0) if priority else 0


def local_day(site, now=None):
    return site_today(site, now)


def _require_counter_officer(actor, counter) -> None:
    require_authenticated(actor)
    if not (is_mall_admin(actor) or (actor.is_officer and actor.agency_id == counter.agency_id)):
        raise Forbidden(_("Loket ini milik instansi lain."), code="foreign_counter")


def _clean_prefix(prefix: str) -> str:
    prefix = (prefix or "").strip().upper()
    if not prefix.isalpha() or not prefix.isascii() or len(prefix) > 2:
        raise InvalidInput(_("Awalan nomor antrean harus 1–2 huruf."), code="invalid_prefix")
    return prefix


@transaction.atomic
def queue_group_create(*, actor, agency, prefix: str, name: str, services=(), number_start=1, number_wrap=999) -> QueueGroup:
    require_mall_admin(actor)
    prefix = _clean_prefix(prefix)
    if not 0 < number_start < number_wrap:
        raise InvalidInput(_("Nomor awal harus lebih kecil dari nomor akhir."), code="invalid_numbering")
    if QueueGroup.objects.filter(site=agency.site, prefix=prefix).exists():
        raise Conflict(_("Awalan %(p)s sudah dipakai.") % {"p": prefix}, code="duplicate_prefix")
    group = QueueGroup.objects.create(site=agency.site, agency=agency, prefix=prefix, name=name,
                                      number_start=number_start, number_wrap=number_wrap)
    group.services.set(services)
    audit.record(actor=actor, action="queue_group.created", obj=group, changes={"prefix": prefix, "agency": agency.slug})
    return group


def _next_number(group: QueueGroup, day) -> tuple[int, int]:
    seq, _created = DaySequence.objects.select_for_update().get_or_create(group=group, day=day)
    if seq.last_number == 0:
        number = group.number_start
    elif seq.last_number >= group.number_wrap:
        number, seq.cycle = group.number_start, seq.cycle + 1
    else:
        number = seq.last_number + 1
    seq.last_number = number
    seq.save(update_fields=["last_number", "cycle"])
    return number, seq.cycle


@transaction.atomic
def ticket_issue(*, actor, group: QueueGroup, service=None, nik: str = "", phone: str = "", priority: str = "") -> Ticket:
    """A new ticket at a kiosk, a counter or through the API (anyone may take one)."""
    if not group.is_active:
        raise InvalidInput(_("Kelompok antrean ini sedang tidak melayani."), code="group_inactive")
    if priority not in Priority.values:
        raise InvalidInput(_("Kelompok prioritas tidak dikenal."), code="invalid_priority")
    if service is not None and not group.services.filter(pk=service.pk).exists():
        raise InvalidInput(_("Layanan ini tidak dilayani kelompok antrean %(p)s.") % {"p": group.prefix}, code="service_not_in_group")
    nik = parse_nik(nik).nik if nik else ""
    phone = normalise_phone(phone) if phone else ""
    now = timezone.now()
    day = local_day(group.site, now)
    number, cycle = _next_number(group, day)
    ticket = Ticket(
        site=group.site, group=group, day=day, cycle=cycle, number=number, service=service,
        nik=nik, phone=phone, priority=priority, priority_weight=priority_weight(priority),
        arrival_at=now, issued_at=now,
    )
    ids.save_with_new_code(ticket)
    audit.record(actor=actor, action="ticket.issued", obj=ticket,
                 changes={"display": ticket.display, "group": group.prefix, "priority": priority})
    return ticket


@transaction.atomic
def counter_open(*, actor, counter, groups) -> CounterSession:
    _require_counter_officer(actor, counter)
    groups = list(groups)
    if not groups or any(g.agency_id != counter.agency_id for g in groups):
        raise InvalidInput(_("Pilih kelompok antrean milik instansi loket ini."), code="invalid_groups")
    from satupintu.catalog.models import Counter

    Counter.objects.select_for_update().get(pk=counter.pk)  # two "open" clicks: the second waits, then sees it open
    # the officer as they are now, locked as their deactivation locks them: one running at the
    # same time either finishes first (then they are refused here) or closes this session after
    if not User.objects.select_for_update(no_key=True).filter(pk=actor.pk, is_active=True).values_list("pk", flat=True):
        raise Forbidden(_("Akun ini tidak aktif."), code="account_inactive")
    if CounterSession.objects.filter(counter=counter, closed_at__isnull=True).exists():
        raise Conflict(_("Loket %(c)s sudah dibuka.") % {"c": counter.code}, code="counter_already_open")
    session = CounterSession.objects.create(counter=counter, officer=actor, opened_at=timezone.now())
    session.groups.set(groups)
    audit.record(actor=actor, action="counter.opened", obj=counter, changes={"groups": [g.prefix for g in groups]})
    return session


def _open_session(counter) -> CounterSession:
    # locked: a double click on "call next" (or a call racing a pause) waits for the first one
    session = CounterSession.objects.select_for_update().filter(counter=counter, closed_at__isnull=True).first()
    if session is None:
        raise Conflict(_("Loket %(c)s belum dibuka.") % {"c": counter.code}, code="counter_closed")
    return session


@transaction.atomic
def counter_pause(*, actor, counter, paused: bool) -> CounterSession:
    _require_counter_officer(actor, counter)
    session = _open_session(counter)
    session.paused = paused
    session.save(update_fields=["paused"])
    audit.record(actor=actor, action="counter.paused" if paused else "counter.resumed", obj=counter, changes={})
    return session


@transaction.atomic
def counter_close(*, actor, counter) -> None:
    _require_counter_officer(actor, counter)
    session = _open_session(counter)
    session.closed_at = timezone.now()
    session.save(update_fields=["closed_at"])
    audit.record(actor=actor, action="counter.closed", obj=counter, changes={})


def _sessions_close(sessions, now) -> list[CounterSession]:
    """Close the open ones of `sessions` (a queryset) at `now`; returns them. Every closing of
    several sessions goes through here: they are locked in counter order first (an UPDATE alone
    locks them in the table's order, and two closings at once, say an officer's deactivation and
    the day's close, would deadlock)."""
    locked = list(sessions.select_for_update(of=("self",)).filter(closed_at__isnull=True).order_by("counter_id"))
    if locked:
        CounterSession.objects.filter(pk__in=[s.pk for s in locked]).update(closed_at=now)
    return locked


def officer_counters_close(*, actor, officer, why: str) -> int:
    """Close every counter `officer` has open, as part of the caller's change to the officer
    (deactivated: the counter would otherwise stay open in the name of someone who can no longer
    sign in, on the displays and in the counter list, until another officer closed it), through
    `_sessions_close`; one `counter.closed` entry per counter, with `why` and
    the officer. The caller checked the permission (`identity.services.officer_update`) and holds
    the transaction. Returns the number of counters closed."""
    sessions = _sessions_close(CounterSession.objects.select_related("counter").filter(officer=officer), timezone.now())
    for session in sessions:
        audit.record(actor=actor, action="counter.closed", obj=session.counter,
                     changes={"officer": str(officer.uuid), "why": why})
    return len(sessions)


@transaction.atomic
def ticket_call_next(*, actor, counter) -> Ticket:
    """Take the next waiting ticket of the counter's groups, in the calling order."""
    _require_counter_officer(actor, counter)
    session = _open_session(counter)
    if session.paused:
        raise Conflict(_("Loket sedang dijeda."), code="counter_paused")
    if Ticket.objects.filter(counter=counter, status__in=[TicketStatus.CALLED, TicketStatus.SERVING]).exists():
        raise Conflict(_("Selesaikan atau tandai tidak hadir tiket yang sedang dipanggil dulu."), code="counter_busy")
    now = timezone.now()
    candidates = Ticket.objects.filter(
        group__in=session.groups.all(), day=local_day(counter.site, now), status=TicketStatus.WAITING
    ).order_by(*call_order(now))
    if connection.features.has_select_for_update_skip_locked:
        candidates = candidates.select_for_update(skip_locked=True, of=("self",))
    ticket = candidates.first()
    if ticket is None:
        raise NotFound(_("Tidak ada antrean yang menunggu."), code="queue_empty")
    ticket.status, ticket.counter, ticket.called_by, ticket.called_at = TicketStatus.CALLED, counter, actor, now
    ticket.first_called_at = now
    ticket.save(update_fields=["status", "counter", "called_by", "called_at", "first_called_at"])
    audit.record(actor=actor, action="ticket.called", obj=ticket, changes={"counter": counter.code, "display": ticket.display})
    return ticket


def _own_ticket(actor, ticket: Ticket, allowed: set[str]) -> Ticket:
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("counter", "group").get(pk=ticket.pk)
    if ticket.counter is None:
        raise Conflict(_("Tiket ini belum dipanggil."), code="ticket_not_called")
    _require_counter_officer(actor, ticket.counter)
    if ticket.status not in allowed:
        raise Conflict(_("Tiket berstatus %(s)s; tindakan ini tidak berlaku.") % {"s": ticket.get_status_display()},
                       code="ticket_wrong_status")
    return ticket


@transaction.atomic
def ticket_recall(*, actor, ticket: Ticket) -> Ticket:
    ticket = _own_ticket(actor, ticket, {TicketStatus.CALLED})
    if ticket.recall_count >= settings.SATUPINTU_QUEUE_MAX_RECALLS:
        raise Conflict(_("Sudah dipanggil ulang %(n)d kali; tandai tidak hadir.") % {"n": ticket.recall_count}, code="recall_limit")
    ticket.recall_count += 1
    ticket.called_at = timezone.now()
    ticket.save(update_fields=["recall_count", "called_at"])
    audit.record(actor=actor, action="ticket.recalled", obj=ticket, changes={"recall": ticket.recall_count})
    return ticket


def _move(actor, ticket: Ticket, *, allowed: set, to: str, stamp: str, action: str) -> Ticket:
    ticket = _own_ticket(actor, ticket, allowed)
    ticket.status = to
    setattr(ticket, stamp, timezone.now())
    ticket.save(update_fields=["status", stamp])
    audit.record(actor=actor, action=action, obj=ticket, changes={"recalls": ticket.recall_count})
    return ticket


@transaction.atomic
def ticket_start(*, actor, ticket: Ticket) -> Ticket:
    return _move(actor, ticket, allowed={TicketStatus.CALLED}, to=TicketStatus.SERVING, stamp="started_at",
                 action="ticket.started")


@transaction.atomic
def ticket_finish(*, actor, ticket: Ticket) -> Ticket:
    return _move(actor, ticket, allowed={TicketStatus.SERVING}, to=TicketStatus.DONE, stamp="finished_at",
                 action="ticket.finished")


@transaction.atomic
def ticket_no_show(*, actor, ticket: Ticket) -> Ticket:
    return _move(actor, ticket, allowed={TicketStatus.CALLED}, to=TicketStatus.NO_SHOW, stamp="finished_at",
                 action="ticket.no_show")


@transaction.atomic
def ticket_transfer(*, actor, ticket: Ticket, group: QueueGroup, service=None) -> Ticket:
    """Send the visitor to another service or tenant, keeping their original arrival time."""
    ticket = _own_ticket(actor, ticket, {TicketStatus.CALLED, TicketStatus.SERVING})
    if group.pk == ticket.group_id and service is None:
        raise InvalidInput(_("Pilih kelompok antrean atau layanan tujuan yang lain."), code="same_group")
    if service is not None and not group.services.filter(pk=service.pk).exists():
        raise InvalidInput(_("Layanan ini tidak dilayani kelompok antrean %(p)s.") % {"p": group.prefix}, code="service_not_in_group")
    now = timezone.now()
    number, cycle = _next_number(group, local_day(group.site, now))
    new = Ticket(
        site=group.site, group=group, day=local_day(group.site, now), cycle=cycle, number=number,
        service=service, nik=ticket.nik, phone=ticket.phone, priority=ticket.priority,
        priority_weight=ticket.priority_weight, arrival_at=ticket.arrival_at, booked_for=ticket.booked_for,
        issued_at=now, transferred_from=ticket,
    )
    ids.save_with_new_code(new)
    ticket.status, ticket.finished_at = TicketStatus.TRANSFERRED, now
    ticket.save(update_fields=["status", "finished_at"])
    audit.record(actor=actor, action="ticket.transferred", obj=ticket,
                 changes={"to": new.display, "group": group.prefix, "agency": group.agency_id})
    return new


@transaction.atomic
def queue_group_sync(*, actor, agency, prefix: str, name: str, services) -> tuple[QueueGroup, bool]:
    """Make the group `prefix` of the agency's site match the profile; nothing happens when it does."""
    require_mall_admin(actor)
    prefix = _clean_prefix(prefix)
    group = QueueGroup.objects.filter(site=agency.site, prefix=prefix).first()
    if group is None:
        return queue_group_create(actor=actor, agency=agency, prefix=prefix, name=name, services=services), True
    wanted = {s.pk for s in services}
    if group.agency_id != agency.pk:
        raise Conflict(_("Awalan %(p)s sudah dipakai instansi lain.") % {"p": prefix}, code="duplicate_prefix")
    if group.name == name and set(group.services.values_list("pk", flat=True)) == wanted:
        return group, False
    group.name = name
    group.save(update_fields=["name"])
    group.services.set(services)
    audit.record(actor=actor, action="queue_group.changed", obj=group, changes={"name": name, "services": len(wanted)})
    return group, True


# --- daily close ----------------------------------------------------------------------------


@transaction.atomic
def queue_day_close(*, actor, site, day) -> dict:
    """Close a day: unserved tickets are marked, open counters closed, unused bookings expired.
    The tickets stay, so the day's statistics are kept. Running it twice changes nothing."""
    require_mall_admin(actor)
    if day > local_day(site):
        raise InvalidInput(_("Hari yang belum tiba tidak bisa ditutup."), code="day_in_future")
    now = timezone.now()
    open_statuses = [TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING]
    expired = Ticket.objects.filter(site=site, day__lte=day, status__in=open_statuses).update(
        status=TicketStatus.EXPIRED, finished_at=now)
    closed = len(_sessions_close(CounterSession.objects.filter(counter__site=site, opened_at__date__lte=day), now))
    bookings = Booking.objects.filter(group__site=site, day__lte=day, status=BookingStatus.BOOKED).update(status=BookingStatus.EXPIRED)
    result = {"day": day.isoformat(), "tickets_expired": expired, "counters_closed": closed, "bookings_expired": bookings}
    if expired or closed or bookings:
        audit.record(actor=actor, action="queue.day_closed", obj=site, changes=result)
    return result


# --- online booking (reservasi) -------------------------------------------------------------


def _slot_bounds(group: QueueGroup, day):
    """(first slot start, closing time) in the site's zone for an open working day, else None."""
    from datetime import datetime, time as dtime
    from zoneinfo import ZoneInfo

    from satupintu.catalog.selectors import site_calendar

    hours = (group.site.opening_hours or {}).get(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()])
    if not hours or site_calendar(group.site).holiday(day) is not None:  # closed, holiday, cuti bersama, closure
        return None
    zone = ZoneInfo(group.site.timezone)
    return (datetime.combine(day, dtime.fromisoformat(hours[0]), zone), datetime.combine(day, dtime.fromisoformat(hours[1]), zone))


def booking_slots(group: QueueGroup, day) -> list:
    from datetime import timedelta

    bounds = _slot_bounds(group, day)
    if bounds is None:
        return []
    start, close = bounds
    step = timedelta(minutes=group.booking_slot_minutes)
    slots = []
    while start + step <= close:
        slots.append(start)
        start += step
    return slots


def _taken(group: QueueGroup, day):
    from django.db.models import Count

    active = [BookingStatus.BOOKED, BookingStatus.CHECKED_IN]
    rows = Booking.objects.filter(group=group, day=day, status__in=active).values("slot_start").annotate(n=Count("id"))
    return {r["slot_start"]: r["n"] for r in rows}


def next_free_slot(group: QueueGroup, after, days: int = 14):
    """The first slot after `after` with room, looking up to `days` days ahead."""
    from datetime import timedelta

    day = local_day(group.site, after)
    for _i in range(days):
        taken = _taken(group, day)
        if sum(taken.values()) < group.booking_day_quota:
            for slot in booking_slots(group, day):
                if slot > after and taken.get(slot, 0) < group.booking_slot_quota:
                    return slot
        day += timedelta(days=1)
    return None


@transaction.atomic
def booking_create(*, actor, group: QueueGroup, slot_start, nik: str = "", phone: str = "", service=None) -> Booking:
    """Reserve a slot. Quotas hold under concurrency: bookings of a group are serialised on its row."""
    if not group.booking_enabled or not group.is_active:
        raise InvalidInput(_("Kelompok antrean ini tidak menerima reservasi daring."), code="booking_disabled")
    if not nik and not phone:
        raise InvalidInput(_("Isi NIK atau nomor HP untuk reservasi."), code="booking_identity_required")
    nik = parse_nik(nik).nik if nik else ""
    phone = normalise_phone(phone) if phone else ""
    if service is not None and not group.services.filter(pk=service.pk).exists():
        raise InvalidInput(_("Layanan ini tidak dilayani kelompok antrean %(p)s.") % {"p": group.prefix}, code="service_not_in_group")
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from satupintu.catalog.models import Site

    # one lock per site: quotas per group and the per-person limit across groups both hold
    Site.objects.select_for_update().get(pk=group.site_id)
    if timezone.is_naive(slot_start):  # a time without an offset is the site's local time
        slot_start = timezone.make_aware(slot_start, ZoneInfo(group.site.timezone))
    now = timezone.now()
    ahead = settings.SATUPINTU_QUEUE_BOOKING_DAYS_AHEAD
    if slot_start <= now:
        raise InvalidInput(_("Slot itu sudah lewat; pilih waktu lain."), code="slot_past")
    # compared before any time-zone arithmetic, which would overflow on a year-9999 time
    if slot_start > now + timedelta(days=ahead + 2) or (
            local_day(group.site, slot_start) > local_day(group.site, now) + timedelta(days=ahead)):
        raise InvalidInput(_("Reservasi paling lambat %(n)d hari ke depan.") % {"n": ahead}, code="slot_too_far")
    day = local_day(group.site, slot_start)
    if slot_start not in booking_slots(group, day):
        reason = _("MPP tutup pada hari itu (libur, cuti bersama atau penutupan).") if not booking_slots(group, day) else \
            _("Waktu itu bukan awal slot dalam jam layanan.")
        raise InvalidInput(reason, code="slot_invalid", details={"next_free": _iso(next_free_slot(group, now))})
    limit = settings.SATUPINTU_QUEUE_MAX_BOOKINGS_PER_DAY
    active = [BookingStatus.BOOKED, BookingStatus.CHECKED_IN]
    mine = Booking.objects.filter(day=day, status__in=active, group__site=group.site)
    if (nik and mine.filter(nik=nik).count() >= limit) or (phone and mine.filter(phone=phone).count() >= limit):
        raise Conflict(_("Satu orang paling banyak %(n)d reservasi per hari.") % {"n": limit}, code="booking_limit")
    taken = _taken(group, day)
    if taken.get(slot_start, 0) >= group.booking_slot_quota or sum(taken.values()) >= group.booking_day_quota:
        nxt = next_free_slot(group, slot_start)
        raise Conflict(_("Slot penuh.") + (" " + _("Slot kosong berikutnya: %(t)s.") % {"t": _local(group, nxt)} if nxt else ""),
                       code="slot_full", details={"next_free": _iso(nxt)})
    booking = Booking(group=group, service=service, day=day, slot_start=slot_start, nik=nik, phone=phone)
    ids.save_with_new_code(booking)
    audit.record(actor=actor, action="booking.created", obj=booking, changes={"group": group.prefix, "slot": slot_start})
    return booking


def _iso(value):
    return value.isoformat() if value else None


def _local(group, value):
    from zoneinfo import ZoneInfo

    return timezone.localtime(value, ZoneInfo(group.site.timezone)).strftime("%d-%m-%Y %H:%M")


def _booking_for_update(code: str) -> Booking:
    # a scanner reading the booking's QR types its URL: the code is the last path segment
    canonical = ids.normalise((code or "").strip().rstrip("/").rsplit("/", 1)[-1])
    booking = Booking.objects.select_for_update(of=("self",)).select_related("group__site").filter(code=canonical).first() if canonical else None
    if booking is None:
        raise NotFound(_("Kode reservasi tidak dikenal; periksa lagi hurufnya."), code="booking_not_found")
    return booking


@transaction.atomic
def booking_cancel(*, actor, code: str) -> Booking:
    booking = _booking_for_update(code)
    if booking.status != BookingStatus.BOOKED:
        raise Conflict(_("Reservasi ini berstatus %(s)s.") % {"s": booking.get_status_display()}, code="booking_wrong_status")
    booking.status = BookingStatus.CANCELLED
    booking.save(update_fields=["status"])
    audit.record(actor=actor, action="booking.cancelled", obj=booking, changes={})
    return booking


@transaction.atomic
def booking_check_in(*, actor, code: str) -> Ticket:
    """At the kiosk: the booking becomes a ticket ordered by its slot; a late arrival (past the
    grace period) still gets a ticket but loses the slot's priority."""
    from datetime import timedelta

    booking = _booking_for_update(code)
    now = timezone.now()
    if booking.status != BookingStatus.BOOKED:
        raise Conflict(_("Reservasi ini berstatus %(s)s.") % {"s": booking.get_status_display()}, code="booking_wrong_status")
    if booking.day != local_day(booking.group.site, now):
        raise Conflict(_("Reservasi ini untuk tanggal %(d)s.") % {"d": booking.day.strftime("%d-%m-%Y")}, code="booking_other_day")
    late = now > booking.slot_start + timedelta(minutes=settings.SATUPINTU_QUEUE_LATE_GRACE_MINUTES)
    ticket = ticket_issue(actor=actor, group=booking.group, service=booking.service, nik=booking.nik, phone=booking.phone)
    if not late:
        ticket.booked_for = booking.slot_start
        ticket.save(update_fields=["booked_for"])
    booking.status, booking.ticket = BookingStatus.CHECKED_IN, ticket
    booking.save(update_fields=["status", "ticket"])
    audit.record(actor=actor, action="booking.checked_in", obj=booking, changes={"ticket": ticket.display, "late": late})
    return ticket
