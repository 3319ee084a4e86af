import json
import time
from datetime import datetime, timedelta

from django.contrib import messages
from django.db import DatabaseError
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.catalog.models import Counter
from satupintu.core.errors import DomainError

from . import selectors, services
from .models import Priority, Ticket, TicketStatus
from .spoken import call_text

STREAM_SECONDS = 25  # then the browser reconnects (EventSource) and resumes from Last-Event-ID
POLL_SECONDS = 0.25
# A call's time is taken before its transaction commits, so a call can become visible after a
# later one: every poll looks this far back and skips what it already sent.
LOOKBACK = timedelta(seconds=5)




def kiosk(request):
    site = selectors.site_required()
    if request.method == "POST" and request.POST.get("booking"):
        try:
            ticket = services.booking_check_in(actor=request.user, code=request.POST["booking"])
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("queueing:kiosk")
        return redirect("queueing:ticket", code=ticket.code)
    if request.method == "POST":
        try:
            group = selectors.queue_group_get(site=site, key=request.POST.get("group", ""))
            ticket = services.ticket_issue(actor=request.user, group=group, priority=request.POST.get("priority", ""),
                                           phone=request.POST.get("phone", ""))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("queueing:kiosk")
        return redirect("queueing:ticket", code=ticket.code)
    return render(request, "queueing/kiosk.html", {"waits": selectors.group_waits(site=site), "priorities": Priority.choices})


def ticket_page(request, code):
    ticket = selectors.ticket_by_code(code)
    template = "queueing/_ticket_status.html" if request.headers.get("HX-Request") else "queueing/ticket.html"
    ahead = selectors.tickets_ahead(ticket)
    return render(request, template, {
        "ticket": ticket, "ahead": ahead, "wait": selectors.wait_estimate_minutes(ticket.group, ahead, ticket.day),
        "qr": selectors.qr_svg(request.build_absolute_uri()),
    })




ACTIONS = {
    "recall": services.ticket_recall, "start": services.ticket_start, "finish": services.ticket_finish,
    "no_show": services.ticket_no_show,
}


@login_required
def counter_panel(request, counter):
    counter = selectors.counter_by_code(counter)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "open":
                groups = [selectors.queue_group_get(site=counter.site, key=g) for g in request.POST.getlist("groups")]
                services.counter_open(actor=request.user, counter=counter, groups=groups)
            elif action == "call_next":
                services.ticket_call_next(actor=request.user, counter=counter)
            elif action in ("pause", "resume"):
                services.counter_pause(actor=request.user, counter=counter, paused=action == "pause")
            elif action == "close":
                services.counter_close(actor=request.user, counter=counter)
            elif action in ACTIONS or action == "transfer":
                ticket = selectors.ticket_by_code(request.POST.get("ticket", ""))
                if action == "transfer":
                    target = selectors.queue_group_get(site=counter.site, key=request.POST.get("to_group", ""))
                    services.ticket_transfer(actor=request.user, ticket=ticket, group=target)
                else:
                    ACTIONS[action](actor=request.user, ticket=ticket)
            else:
                messages.error(request, _("Tindakan tidak dikenal."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("queueing:counter", counter=counter.code)
    tickets = list(selectors.counter_tickets(actor=request.user, counter=counter)[:10])
    # any day: a ticket left open by a day that was never closed must still be finishable here
    current = Ticket.objects.filter(counter=counter, status__in=[TicketStatus.CALLED, TicketStatus.SERVING]).first()
    from .models import CounterSession

    session = CounterSession.objects.filter(counter=counter, closed_at__isnull=True).prefetch_related("groups").first()
    groups = selectors.queue_groups(site=counter.site)
    waiting = Ticket.objects.filter(group__in=session.groups.all(), day=services.local_day(counter.site),
                                    status=TicketStatus.WAITING).count() if session else 0
    return render(request, "queueing/counter.html", {
        "counter": counter, "session": session, "current": current, "tickets": tickets, "waiting": waiting,
        "own_groups": [g for g in groups if g.agency_id == counter.agency_id], "all_groups": groups,
    })


def display(request):
    site = selectors.site_required()
    counters = Counter.objects.filter(site=site, is_active=True).select_related("agency").order_by("code")
    calls = selectors.recent_calls(site=site)
    latest = {t.counter_id: t for t in reversed(calls)}  # the newest call per counter
    return render(request, "queueing/display.html", {
        "counters": [(c, latest.get(c.pk)) for c in counters], "calls": calls[:8],
    })


def _event(ticket) -> str:
    data = {"display": ticket.display, "counter": ticket.counter.code, "counter_id": ticket.counter_id,
            "key": f"{ticket.pk}:{ticket.recall_count}",
            "agency": ticket.group.agency.short_name, "text": call_text(ticket.display, ticket.counter.code),
            "recall": ticket.recall_count}
    return f"id: {ticket.called_at.isoformat()}\nevent: call\ndata: {json.dumps(data)}\n\n"


def display_events(request):
    """Server-sent events: every call and recall at this site, from any server process (the
    database is polled, so it works with many web processes and on SQLite alike)."""
    site = selectors.site_required()
    last = request.headers.get("Last-Event-ID") or request.GET.get("since")
    from zoneinfo import ZoneInfo

    try:
        since = datetime.fromisoformat(last) if last else timezone.now()
    except ValueError:
        since = timezone.now()
    if timezone.is_naive(since):
        since = timezone.make_aware(since, ZoneInfo(site.timezone))
    # a display back after a long break announces today's missed calls at most, never yesterday's
    start_of_day = datetime.combine(services.local_day(site), datetime.min.time(), ZoneInfo(site.timezone))
    # … and a time in the future (or year 9999) cannot silence it: nothing is newer than now
    since = min(max(since, start_of_day), timezone.now())

    def stream():
        nonlocal since
        yield "retry: 1000\n\n"
        deadline = time.monotonic() + STREAM_SECONDS
        rounds, sent = 0, {}
        try:
            while time.monotonic() < deadline:
                for ticket in selectors.calls_since(site=site, since=since - LOOKBACK):
                    key = (ticket.pk, ticket.recall_count)
                    if key in sent:
                        continue
                    sent[key] = ticket.called_at
                    since = max(since, ticket.called_at)
                    yield _event(ticket)
                sent = {k: at for k, at in sent.items() if at > since - LOOKBACK}
                rounds += 1
                if rounds % 25 == 0:
                    yield ": keep-alive\n\n"
                time.sleep(POLL_SECONDS)
        except (DatabaseError, RuntimeError):  # the server is going away: end; the browser reconnects
            return

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


def booking_page(request):
    from datetime import date, timedelta

    site = selectors.site_required()
    groups = [g for g in selectors.queue_groups(site=site) if g.booking_enabled]
    prefix = request.GET.get("kelompok") or request.POST.get("group") or (groups[0].prefix if groups else "")
    try:
        day = date.fromisoformat(request.GET.get("tanggal") or request.POST.get("day") or "")
    except ValueError:
        day = services.local_day(site) + timedelta(days=1)
    group = next((g for g in groups if g.prefix == prefix.upper()), None)
    status = 200
    if request.method == "POST" and group is not None:
        try:
            booking = services.booking_create(
                actor=request.user, group=group, slot_start=datetime.fromisoformat(request.POST.get("slot", "")),
                nik=request.POST.get("nik", ""), phone=request.POST.get("phone", ""))
        except ValueError:
            messages.error(request, _("Pilih slot waktu."))
            status = 400
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            return redirect("queueing:booking_detail", code=booking.code)
    slots = selectors.slots_with_room(group, day) if group else []
    wait = next((w for w in selectors.group_waits(site=site) if group and w["group"].pk == group.pk), None)
    return render(request, "queueing/booking.html", {
        "groups": groups, "group": group, "day": day, "slots": slots, "min_day": services.local_day(site), "wait": wait,
    }, status=status)


def booking_detail(request, code):
    booking = selectors.booking_by_code(code)
    if request.method == "POST":
        try:
            services.booking_cancel(actor=request.user, code=code)
            messages.success(request, _("Reservasi dibatalkan."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("queueing:booking_detail", code=booking.code)
    return render(request, "queueing/booking_detail.html", {
        "booking": booking, "qr": selectors.qr_svg(request.build_absolute_uri()),
    })


@login_required
def stats_page(request):
    import csv
    from datetime import date, timedelta

    from django.http import HttpResponse

    site = selectors.site_required()
    waits = selectors.group_waits_for(actor=request.user, site=site)
    if request.headers.get("HX-Request"):  # the live table refreshes alone, without the day statistics
        return render(request, "queueing/_live.html", {"waits": waits})
    today = services.local_day(site)
    try:
        start = date.fromisoformat(request.GET.get("dari") or "")
        end = date.fromisoformat(request.GET.get("sampai") or "")
    except ValueError:
        start, end = today - timedelta(days=6), today
    rows = selectors.queue_stats(actor=request.user, site=site, start=start, end=end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="antrian-{start}-{end}.csv"'
        writer = csv.writer(response)
        fields = list(rows[0].keys()) if rows else ["day", "agency", "group", "service", "issued"]
        writer.writerow(fields)
        for r in rows:
            writer.writerow([r[f] for f in fields])
        return response
    return render(request, "queueing/stats.html", {"rows": rows, "start": start, "end": end, "waits": waits})
