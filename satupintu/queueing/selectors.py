"""Reads of the queue. A ticket's public status is found by its code (what is printed on it);
counters and their tickets are visible to the officers of the counter's agency."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.core import ids
from satupintu.core.errors import NotFound
from satupintu.core.permissions import is_mall_admin, require_authenticated

from .models import QueueGroup, Ticket, TicketStatus
from .services import local_day


def ticket_by_code(code: str) -> Ticket:
    canonical = ids.normalise(code)
    ticket = Ticket.objects.select_related("group", "group__agency", "counter").filter(code=canonical).first() if canonical else None
    if ticket is None:
        raise NotFound(_("Kode tiket tidak dikenal; periksa lagi hurufnya."), code="ticket_not_found")
    return ticket


def tickets_ahead(ticket: Ticket, now=None) -> int:
    """How many waiting tickets of the same group will be called before this one."""
    if ticket.status != TicketStatus.WAITING:
        return 0
    now = now or timezone.now()
    due = ticket.booked_for is not None and ticket.booked_for <= now
    waiting = Ticket.objects.filter(group_id=ticket.group_id, day=ticket.day, status=TicketStatus.WAITING).exclude(pk=ticket.pk)
    due_q = Q(booked_for__isnull=False, booked_for__lte=now)
    same_tier = Q(priority_weight__gt=ticket.priority_weight) | Q(
        priority_weight=ticket.priority_weight, arrival_at__lt=ticket.arrival_at
    ) | Q(priority_weight=ticket.priority_weight, arrival_at=ticket.arrival_at, pk__lt=ticket.pk)
    before = (due_q & same_tier) if due else (due_q | (~due_q & same_tier))
    return waiting.filter(before).count()


def queue_groups(*, site):
    return QueueGroup.objects.filter(site=site, is_active=True).select_related("agency").order_by("prefix")


def queue_group_get(*, site, key: str) -> QueueGroup:
    group = queue_groups(site=site).filter(prefix=(key or "").upper()).first()
    if group is None:
        raise NotFound(_("Kelompok antrean tidak ditemukan."), code="queue_group_not_found")
    return group


def counter_tickets(*, actor, counter):
    """Today's tickets called at a counter, newest first (officers of its agency)."""
    require_authenticated(actor)
    if not (is_mall_admin(actor) or actor.agency_id == counter.agency_id):
        raise NotFound(_("Loket tidak ditemukan."), code="counter_not_found")
    return (Ticket.objects.filter(counter=counter, day=local_day(counter.site))
            .select_related("group__agency", "counter").order_by("-called_at"))


def recent_calls(*, site, limit: int = 40) -> list[Ticket]:
    """Today's latest calls at the site, newest first."""
    return list(Ticket.objects.filter(site=site, day=local_day(site), called_at__isnull=False)
                .select_related("group__agency", "counter").order_by("-called_at")[:limit])


def calls_since(*, site, since) -> list[Ticket]:
    return list(Ticket.objects.filter(site=site, called_at__gt=since).select_related("group__agency", "counter")
                .order_by("called_at")[:50])
