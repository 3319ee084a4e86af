"""The calling order — one function, used by the database query and by the tests:

1. bookings whose slot has started (a checked-in booking that is due),
2. then the higher priority weight (lansia, disabilitas, ibu hamil/menyusui, anak-anak),
3. then the earlier arrival (a transfer keeps the original arrival),
4. then the ticket id, so the order is total.
"""

from datetime import datetime

from django.db.models import BooleanField, Case, F, Value, When


def call_key(ticket, now: datetime) -> tuple:
    due = ticket.booked_for is not None and ticket.booked_for <= now
    return (0 if due else 1, -ticket.priority_weight, ticket.arrival_at, ticket.pk)


def call_order(now: datetime) -> list:
    """The same order as `call_key`, as ORDER BY expressions."""
    due = Case(When(booked_for__isnull=False, booked_for__lte=now, then=Value(True)), default=Value(False),
               output_field=BooleanField())
    return [due.desc(), F("priority_weight").desc(), F("arrival_at").asc(), F("pk").asc()]
