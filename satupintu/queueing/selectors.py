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
    ticket = (Ticket.objects.select_related("group", "group__agency", "counter", "service").filter(code=canonical).first()
              if canonical else None)
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
                .order_by("called_at")[:200])


def _service_minutes_by_group(day, group_ids) -> dict:
    """Mean service time of each group's tickets finished on `day`, in one query."""
    from django.db.models import Avg, DurationField, ExpressionWrapper, F

    spent = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    rows = (Ticket.objects.filter(group_id__in=group_ids, day=day, status=TicketStatus.DONE, started_at__isnull=False)
            .values("group_id").annotate(avg=Avg(spent)))
    return {r["group_id"]: r["avg"].total_seconds() / 60 for r in rows if r["avg"] is not None}


def _open_counters_by_group(group_ids) -> dict:
    from django.db.models import Count

    from .models import CounterSession

    rows = (CounterSession.groups.through.objects.filter(
        queuegroup_id__in=group_ids, countersession__closed_at__isnull=True, countersession__paused=False)
        .values("queuegroup_id").annotate(n=Count("countersession_id")))
    return {r["queuegroup_id"]: r["n"] for r in rows}


def _estimate(ahead: int, minutes: float | None, counters: int) -> int:
    from math import ceil

    from django.conf import settings

    per_visitor = minutes if minutes is not None else settings.SATUPINTU_QUEUE_DEFAULT_SERVICE_MINUTES
    return ceil(ahead * per_visitor / max(counters, 1))


def wait_estimate_minutes(group, ahead: int, day=None) -> int:
    """Tickets ahead × today's mean service time ÷ open counters serving the group (at least one)."""
    day = day or local_day(group.site)
    minutes = _service_minutes_by_group(day, [group.pk]).get(group.pk)
    return _estimate(ahead, minutes, _open_counters_by_group([group.pk]).get(group.pk, 0))


def group_waits_for(*, actor, site) -> list[dict]:
    """The live waits for the statistics page: the mall admin sees every tenant, an officer their own."""
    from satupintu.core.errors import Forbidden

    require_authenticated(actor)
    if is_mall_admin(actor):
        return group_waits(site=site)
    if not getattr(actor, "is_officer", False):
        raise Forbidden(_("Statistik antrean hanya untuk petugas dan pengelola MPP."))
    return [w for w in group_waits(site=site) if w["group"].agency_id == actor.agency_id]


def group_waits(*, site) -> list[dict]:
    """Live, per queue group: tickets waiting, open counters and the estimated wait for a new
    ticket — in a fixed number of queries whatever the number of groups."""
    from django.db.models import Count

    groups = list(queue_groups(site=site))
    ids_ = [g.pk for g in groups]
    day = local_day(site)
    waiting = dict(Ticket.objects.filter(group_id__in=ids_, day=day, status=TicketStatus.WAITING)
                   .values("group_id").annotate(n=Count("id")).values_list("group_id", "n"))
    minutes, counters = _service_minutes_by_group(day, ids_), _open_counters_by_group(ids_)
    return [{"group": g, "waiting": waiting.get(g.pk, 0), "counters": counters.get(g.pk, 0),
             "minutes": _estimate(waiting.get(g.pk, 0), minutes.get(g.pk), counters.get(g.pk, 0))} for g in groups]


def booking_by_code(code: str):
    from .models import Booking

    canonical = ids.normalise(code)
    booking = Booking.objects.select_related("group__agency", "ticket").filter(code=canonical).first() if canonical else None
    if booking is None:
        raise NotFound(_("Kode reservasi tidak dikenal; periksa lagi hurufnya."), code="booking_not_found")
    return booking


def qr_svg(url: str) -> str:
    """An inline SVG QR code (no external service, works offline)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000")


def slots_with_room(group, day) -> list[dict]:
    from django.utils import timezone as tz

    from .services import _taken, booking_slots

    from datetime import timedelta

    from django.conf import settings

    if not group.booking_enabled or day > local_day(group.site) + timedelta(days=settings.SATUPINTU_QUEUE_BOOKING_DAYS_AHEAD):
        return []
    taken, now = _taken(group, day), tz.now()
    if sum(taken.values()) >= group.booking_day_quota:
        return []
    return [{"start": s, "remaining": group.booking_slot_quota - taken.get(s, 0)}
            for s in booking_slots(group, day) if s > now and taken.get(s, 0) < group.booking_slot_quota]


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 1)


def queue_stats(*, actor, site, start, end) -> list[dict]:
    """Per day and group: issued, served, no-shows, transfers, unserved, waiting and service
    times (average and p90, minutes) and the busiest hour. Mall admin: all; officers: own agency."""
    from collections import Counter as Tally
    from zoneinfo import ZoneInfo

    from satupintu.core.errors import Forbidden, InvalidInput

    require_authenticated(actor)
    if end < start or (end - start).days > 366:
        raise InvalidInput(_("Rentang tanggal tidak valid (maks. 1 tahun)."), code="invalid_range")
    qs = Ticket.objects.filter(site=site, day__gte=start, day__lte=end).select_related("group__agency", "service")
    if not is_mall_admin(actor):
        if not getattr(actor, "is_officer", False):
            raise Forbidden(_("Statistik antrean hanya untuk petugas dan pengelola MPP."))
        qs = qs.filter(group__agency_id=actor.agency_id)
    zone = ZoneInfo(site.timezone)
    rows: dict = {}
    for t in qs.only("day", "status", "arrival_at", "issued_at", "first_called_at", "started_at", "finished_at",
                     "transferred_from_id", "group__prefix", "group__agency__short_name", "service__name"):
        key = (t.day, t.group.agency.short_name, t.group.prefix, t.service.name if t.service_id else "")
        r = rows.setdefault(key, {"issued": 0, "served": 0, "no_shows": 0, "transfers": 0, "unserved": 0,
                                  "waits": [], "services": [], "hours": Tally()})
        r["issued"] += 1
        r["hours"][timezone.localtime(t.issued_at, zone).hour] += 1
        if t.status == TicketStatus.DONE:
            r["served"] += 1
        elif t.status == TicketStatus.NO_SHOW:
            r["no_shows"] += 1
        elif t.status == TicketStatus.TRANSFERRED:
            r["transfers"] += 1
        elif t.status == TicketStatus.EXPIRED:
            r["unserved"] += 1
        if t.first_called_at and t.transferred_from_id is None:
            r["waits"].append((t.first_called_at - t.arrival_at).total_seconds() / 60)
        if t.started_at and t.finished_at:
            r["services"].append((t.finished_at - t.started_at).total_seconds() / 60)
    out = []
    for (day, agency, prefix, service), r in sorted(rows.items()):
        out.append({
            "day": day, "agency": agency, "group": prefix, "service": service, "issued": r["issued"], "served": r["served"],
            "no_shows": r["no_shows"], "transfers": r["transfers"], "unserved": r["unserved"],
            "avg_wait_minutes": round(sum(r["waits"]) / len(r["waits"]), 1) if r["waits"] else None,
            "p90_wait_minutes": _pct(r["waits"], 90),
            "avg_service_minutes": round(sum(r["services"]) / len(r["services"]), 1) if r["services"] else None,
            "p90_service_minutes": _pct(r["services"], 90),
            "busiest_hour": r["hours"].most_common(1)[0][0] if r["hours"] else None,
        })
    return out


def site_required():
    """The deployment's site, or a clear 404 before any profile is loaded."""
    from satupintu.catalog.selectors import site_current

    site = site_current()
    if site is None:
        raise NotFound(_("Belum ada mal yang dimuat."), code="site_not_found")
    return site


def counter_by_code(code: str, site=None):
    from satupintu.catalog.models import Counter

    site = site or site_required()
    counter = Counter.objects.select_related("agency", "site").filter(site=site, code=code, is_active=True).first()
    if counter is None:
        raise NotFound(_("Loket tidak ditemukan."), code="counter_not_found")
    return counter
