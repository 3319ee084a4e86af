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
    response.close()
    assert seen.count("B001") == 1 and "silakan menuju loket" in seen


def test_list_pages_query_counts(client, agency, site, make_officer, django_assert_max_num_queries):
    from satupintu.catalog.models import Counter
    from satupintu.catalog.tests.factories import make_agency

    groups = [services.queue_group_create(actor=SYSTEM, agency=make_agency(site), prefix="CDEFGHIJKL"[i], name=f"G{i}")
              for i in range(10)]
    officer = make_officer(agency, role="front_office")
    own = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="B", name="Disdukcapil")
    counters = [Counter.objects.create(agency=agency, site=site, code=f"K{i:02d}", name=f"Loket {i}") for i in range(20)]
    for c in counters:
        services.counter_open(actor=officer, counter=c, groups=[own])
        services.ticket_issue(actor=None, group=own)
        services.ticket_call_next(actor=officer, counter=c)
    for g in groups:
        services.ticket_issue(actor=None, group=g)
    with django_assert_max_num_queries(8):
        r = client.get("/antrian/kiosk/")
    assert r.status_code == 200 and r.content.decode().count('class="kiosk-btn"') == 11
    with django_assert_max_num_queries(6):
        r = client.get("/antrian/layar/")
    assert r.status_code == 200 and r.content.decode().count("B0") >= 20
    with django_assert_max_num_queries(10):
        r = client.get("/antrian/reservasi/", {"kelompok": "B"})
    assert r.status_code == 200
    client.force_login(officer)
    with django_assert_max_num_queries(14):
        r = client.get(f"/antrian/loket/{counters[0].code}/")
    assert r.status_code == 200


def test_a_reconnecting_display_catches_up_from_its_last_event_id(client, agency, monkeypatch):
    monkeypatch.setattr(views, "STREAM_SECONDS", 1)
    monkeypatch.setattr(views, "POLL_SECONDS", 0.05)
    group = services.queue_group_create(actor=SYSTEM, agency=agency, prefix="B", name="Disdukcapil")
    counter = agency.counters.first()
    last_seen = timezone.now() - timedelta(seconds=30)
    missed = services.ticket_issue(actor=None, group=group)  # called while the display was offline
    Ticket.objects.filter(pk=missed.pk).update(status="called", counter=counter, called_at=last_seen + timedelta(seconds=10))
    response = client.get("/antrian/layar/events/", HTTP_LAST_EVENT_ID=last_seen.isoformat())
    body = b"".join(response.streaming_content).decode()
    assert "B001" in body and body.startswith("retry: 1000")
