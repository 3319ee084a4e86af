from datetime import timedelta

import pytest
from django.utils import timezone

from satupintu.catalog.tests.factories import SYSTEM
from satupintu.queueing import services, views
from satupintu.queueing.models import Ticket
from satupintu.queueing.spoken import call_text, spell

pytestmark = pytest.mark.django_db


def test_spoken_call_in_bahasa_indonesia():
    assert spell("A023") == "A nol dua tiga"
    assert call_text("A023", "5") == "Nomor antrian A nol dua tiga, silakan menuju loket lima"


def test_stream_sends_a_call_that_commits_after_a_later_one(client, agency, monkeypatch):
    monkeypatch.setattr(views, "STREAM_SECONDS", 3)
    monkeypatch.setattr(views, "POLL_SECONDS", 0.05)
    group = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="B", name="Disdukcapil")
    counter = agency.counters.first()
    first, late = services.ticket_issue(actor=None, group=group), services.ticket_issue(actor=None, group=group)
    now = timezone.now()
    Ticket.objects.filter(pk=first.pk).update(status="called", counter=counter, called_at=now + timedelta(seconds=1))
    response = client.get("/antrian/layar/events/", {"since": (now - timedelta(seconds=1)).isoformat()})
    assert response["Content-Type"] == "text/event-stream"
    chunks = iter(response.streaming_content)
    seen = ""
    while "B001" not in seen:
        seen += next(chunks).decode()
    # a call stamped earlier (its transaction started first) becomes visible only now
    Ticket.objects.filter(pk=late.pk).update(status="called", counter=counter, called_at=now + timedelta(milliseconds=500))
    while "B002" not in seen:
        seen += next(chunks).decode()
    assert seen.count("B001") == 1 and "silakan menuju loket" in seen
