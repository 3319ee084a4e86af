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
from satupintu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from satupintu.core.permissions import is_mall_admin, require_authenticated, require_mall_admin
from satupintu.identity.nik import parse_nik
from satupintu.identity.phone import normalise_phone

from .models import CounterSession, DaySequence, Priority, QueueGroup, Ticket, TicketStatus
from .ordering import call_order


def priority_weight(priority: str) -> int:
    return settings.SATUPINTU_QUEUE_PRIORITY_WEIGHTS.get(priority, 0) if priority else 0


def local_day(site, now=None):
    from zoneinfo import ZoneInfo

    return timezone.localtime(now or timezone.now(), ZoneInfo(site.timezone)).date()


def _require_counter_officer(actor, counter) -> None:
    require_authenticated(actor)
    if not (is_mall_admin(actor) or (actor.is_officer and actor.agency_id == counter.agency_id)):
        raise Forbidden(_("Loket ini milik instansi lain."), code="foreign_counter")


@transaction.atomic
def queue_group_create(*, actor, agency, prefix: str, name: str, services=(), number_start=1, number_wrap=999) -> QueueGroup:
    require_mall_admin(actor)
    prefix = (prefix or "").strip().upper()
    if not prefix.isalpha() or not prefix.isascii() or len(prefix) > 2:
        raise InvalidInput(_("Awalan nomor antrean harus 1–2 huruf."), code="invalid_prefix")
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
    seq, _created = DaySequence.objects.get_or_create(group=group, day=day)
    seq = DaySequence.objects.select_for_update().get(pk=seq.pk)
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
    ticket = Ticket.objects.create(
        code=ids.new_code(6), site=group.site, group=group, day=day, cycle=cycle, number=number, service=service,
        nik=nik, phone=phone, priority=priority, priority_weight=priority_weight(priority),
        arrival_at=now, issued_at=now,
    )
    audit.record(actor=actor, action="ticket.issued", obj=ticket,
                 changes={"display": ticket.display, "group": group.prefix, "priority": priority})
    return ticket


@transaction.atomic
def counter_open(*, actor, counter, groups) -> CounterSession:
    _require_counter_officer(actor, counter)
    groups = list(groups)
    if not groups or any(g.agency_id != counter.agency_id for g in groups):
        raise InvalidInput(_("Pilih kelompok antrean milik instansi loket ini."), code="invalid_groups")
    if CounterSession.objects.filter(counter=counter, closed_at__isnull=True).exists():
        raise Conflict(_("Loket %(c)s sudah dibuka.") % {"c": counter.code}, code="counter_already_open")
    session = CounterSession.objects.create(counter=counter, officer=actor, opened_at=timezone.now())
    session.groups.set(groups)
    audit.record(actor=actor, action="counter.opened", obj=counter, changes={"groups": [g.prefix for g in groups]})
    return session


def _open_session(counter) -> CounterSession:
    session = CounterSession.objects.filter(counter=counter, closed_at__isnull=True).first()
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
    ticket.save(update_fields=["status", "counter", "called_by", "called_at"])
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


@transaction.atomic
def ticket_start(*, actor, ticket: Ticket) -> Ticket:
    ticket = _own_ticket(actor, ticket, {TicketStatus.CALLED})
    ticket.status, ticket.started_at = TicketStatus.SERVING, timezone.now()
    ticket.save(update_fields=["status", "started_at"])
    audit.record(actor=actor, action="ticket.started", obj=ticket, changes={})
    return ticket


@transaction.atomic
def ticket_finish(*, actor, ticket: Ticket) -> Ticket:
    ticket = _own_ticket(actor, ticket, {TicketStatus.SERVING})
    ticket.status, ticket.finished_at = TicketStatus.DONE, timezone.now()
    ticket.save(update_fields=["status", "finished_at"])
    audit.record(actor=actor, action="ticket.finished", obj=ticket, changes={})
    return ticket


@transaction.atomic
def ticket_no_show(*, actor, ticket: Ticket) -> Ticket:
    ticket = _own_ticket(actor, ticket, {TicketStatus.CALLED})
    ticket.status, ticket.finished_at = TicketStatus.NO_SHOW, timezone.now()
    ticket.save(update_fields=["status", "finished_at"])
    audit.record(actor=actor, action="ticket.no_show", obj=ticket, changes={"recalls": ticket.recall_count})
    return ticket


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
    new = Ticket.objects.create(
        code=ids.new_code(6), site=group.site, group=group, day=local_day(group.site, now), cycle=cycle, number=number,
        service=service, nik=ticket.nik, phone=ticket.phone, priority=ticket.priority,
        priority_weight=ticket.priority_weight, arrival_at=ticket.arrival_at, issued_at=now, transferred_from=ticket,
    )
    ticket.status, ticket.finished_at = TicketStatus.TRANSFERRED, now
    ticket.save(update_fields=["status", "finished_at"])
    audit.record(actor=actor, action="ticket.transferred", obj=ticket,
                 changes={"to": new.display, "group": group.prefix, "agency": group.agency_id})
    return new


@transaction.atomic
def queue_group_sync(*, actor, agency, prefix: str, name: str, services) -> tuple[QueueGroup, bool]:
    """Make the group `prefix` of the agency's site match the profile; nothing happens when it does."""
    require_mall_admin(actor)
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
