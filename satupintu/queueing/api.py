from datetime import date, datetime
from uuid import UUID

from ninja import Router, Schema
from ninja.responses import Status

from satupintu.catalog.selectors import service_get
from satupintu.config.api import actor_of

from . import selectors, services

router = Router(tags=["queue"])


class IssueIn(Schema):
    group: str  # prefix, e.g. "A"
    service: UUID | None = None
    nik: str = ""
    phone: str = ""
    priority: str = ""


class TicketOut(Schema):
    code: str
    display: str
    group: str
    agency: str
    status: str
    priority: str
    issued_at: datetime
    called_at: datetime | None
    counter: str | None
    ahead: int
    estimated_wait_minutes: int


class OpenIn(Schema):
    groups: list[str]


class TransferIn(Schema):
    group: str
    service: UUID | None = None


class CounterTicketsOut(Schema):
    counter: str
    tickets: list[TicketOut]


def ticket_out(ticket) -> dict:
    ahead = selectors.tickets_ahead(ticket)
    return {
        "code": ticket.code, "display": ticket.display, "group": ticket.group.prefix,
        "agency": ticket.group.agency.short_name, "status": ticket.status, "priority": ticket.priority,
        "issued_at": ticket.issued_at, "called_at": ticket.called_at,
        "counter": ticket.counter.code if ticket.counter_id else None, "ahead": ahead,
        "estimated_wait_minutes": selectors.wait_estimate_minutes(ticket.group, ahead, ticket.day) if ticket.status == "waiting" else 0,
    }




@router.post("/tickets", response={201: TicketOut}, summary="Take a ticket (kiosk or app)")
def ticket_issue(request, payload: IssueIn):
    actor = actor_of(request)
    group = selectors.queue_group_get(site=selectors.site_required(), key=payload.group)
    service = service_get(actor=actor, key=str(payload.service)) if payload.service else None
    ticket = services.ticket_issue(actor=actor, group=group, service=service, nik=payload.nik, phone=payload.phone,
                                   priority=payload.priority)
    return Status(201, ticket_out(selectors.ticket_by_code(ticket.code)))


@router.get("/tickets/{code}", response=TicketOut, summary="A ticket's status by the code printed on it")
def ticket_status(request, code: str):
    return ticket_out(selectors.ticket_by_code(code))


@router.post("/counters/{code}/open", response={201: None}, summary="Open a counter for queue groups (officer)")
def counter_open(request, code: str, payload: OpenIn):
    counter = selectors.counter_by_code(code)
    groups = [selectors.queue_group_get(site=counter.site, key=g) for g in payload.groups]
    services.counter_open(actor=actor_of(request), counter=counter, groups=groups)
    return Status(201, None)


@router.post("/counters/{code}/pause", response={204: None}, summary="Pause a counter")
def counter_pause(request, code: str):
    services.counter_pause(actor=actor_of(request), counter=selectors.counter_by_code(code), paused=True)
    return Status(204, None)


@router.post("/counters/{code}/resume", response={204: None}, summary="Resume a paused counter")
def counter_resume(request, code: str):
    services.counter_pause(actor=actor_of(request), counter=selectors.counter_by_code(code), paused=False)
    return Status(204, None)


@router.post("/counters/{code}/close", response={204: None}, summary="Close a counter")
def counter_close(request, code: str):
    services.counter_close(actor=actor_of(request), counter=selectors.counter_by_code(code))
    return Status(204, None)


@router.post("/counters/{code}/call-next", response=TicketOut, summary="Call the next ticket")
def counter_call_next(request, code: str):
    ticket = services.ticket_call_next(actor=actor_of(request), counter=selectors.counter_by_code(code))
    return ticket_out(selectors.ticket_by_code(ticket.code))


@router.get("/counters/{code}/tickets", response=CounterTicketsOut, summary="Today's tickets at a counter (officer)")
def counter_tickets(request, code: str):
    counter = selectors.counter_by_code(code)
    tickets = selectors.counter_tickets(actor=actor_of(request), counter=counter)
    return {"counter": counter.code, "tickets": [ticket_out(t) for t in tickets]}


def _act(request, code: str, action):
    ticket = selectors.ticket_by_code(code)
    result = action(actor=actor_of(request), ticket=ticket)
    return ticket_out(selectors.ticket_by_code(result.code))


@router.post("/tickets/{code}/recall", response=TicketOut, summary="Call the same ticket again")
def ticket_recall(request, code: str):
    return _act(request, code, services.ticket_recall)


@router.post("/tickets/{code}/start", response=TicketOut, summary="The visitor is at the counter")
def ticket_start(request, code: str):
    return _act(request, code, services.ticket_start)


@router.post("/tickets/{code}/finish", response=TicketOut, summary="Service finished")
def ticket_finish(request, code: str):
    return _act(request, code, services.ticket_finish)


@router.post("/tickets/{code}/no-show", response=TicketOut, summary="The visitor did not come")
def ticket_no_show(request, code: str):
    return _act(request, code, services.ticket_no_show)


@router.post("/tickets/{code}/transfer", response={201: TicketOut}, summary="Send the visitor to another group, keeping their place")
def ticket_transfer(request, code: str, payload: TransferIn):
    ticket = selectors.ticket_by_code(code)
    actor = actor_of(request)
    group = selectors.queue_group_get(site=ticket.site, key=payload.group)
    service = service_get(actor=actor, key=str(payload.service)) if payload.service else None
    new = services.ticket_transfer(actor=actor, ticket=ticket, group=group, service=service)
    return Status(201, ticket_out(selectors.ticket_by_code(new.code)))


# --- online booking ---------------------------------------------------------------------------


class SlotOut(Schema):
    start: datetime
    remaining: int


class BookingIn(Schema):
    group: str
    slot_start: datetime
    nik: str = ""
    phone: str = ""
    service: UUID | None = None


class BookingOut(Schema):
    code: str
    group: str
    agency: str
    slot_start: datetime
    status: str
    ticket: str | None


def booking_out(b) -> dict:
    return {"code": b.code, "group": b.group.prefix, "agency": b.group.agency.short_name, "slot_start": b.slot_start,
            "status": b.status, "ticket": b.ticket.code if b.ticket_id else None}


@router.get("/groups/{prefix}/slots", response=list[SlotOut], summary="Bookable slots of a day with room left")
def booking_slots(request, prefix: str, day: date):
    group = selectors.queue_group_get(site=selectors.site_required(), key=prefix)
    return selectors.slots_with_room(group, day)


@router.post("/bookings", response={201: BookingOut}, summary="Book a slot (NIK or phone)")
def booking_create(request, payload: BookingIn):
    actor = actor_of(request)
    group = selectors.queue_group_get(site=selectors.site_required(), key=payload.group)
    service = service_get(actor=actor, key=str(payload.service)) if payload.service else None
    booking = services.booking_create(actor=actor, group=group, slot_start=payload.slot_start, nik=payload.nik,
                                      phone=payload.phone, service=service)
    return Status(201, booking_out(selectors.booking_by_code(booking.code)))


@router.get("/bookings/{code}", response=BookingOut, summary="A booking by its code")
def booking_get(request, code: str):
    return booking_out(selectors.booking_by_code(code))


@router.post("/bookings/{code}/cancel", response=BookingOut, summary="Cancel a booking")
def booking_cancel(request, code: str):
    services.booking_cancel(actor=actor_of(request), code=code)
    return booking_out(selectors.booking_by_code(code))


@router.post("/bookings/{code}/check-in", response={201: TicketOut}, summary="Check in at the kiosk: the booking becomes a ticket")
def booking_check_in(request, code: str):
    ticket = services.booking_check_in(actor=actor_of(request), code=code)
    return Status(201, ticket_out(selectors.ticket_by_code(ticket.code)))


# --- statistics -------------------------------------------------------------------------------


class StatsRow(Schema):
    day: date
    agency: str
    group: str
    service: str  # "" when the ticket was taken for the tenant, not one service
    issued: int
    served: int
    no_shows: int
    transfers: int
    unserved: int
    avg_wait_minutes: float | None
    p90_wait_minutes: float | None
    avg_service_minutes: float | None
    p90_service_minutes: float | None
    busiest_hour: int | None


@router.get("/stats", response=list[StatsRow], summary="Queue statistics per day and group (officers: own agency)")
def queue_stats(request, start: date, end: date):
    return selectors.queue_stats(actor=actor_of(request), site=selectors.site_required(), start=start, end=end)
