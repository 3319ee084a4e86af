import pytest

from conftest import NIK_KAMPAR_M, PASSWORD
from satupintu.notify import services
from satupintu.notify.models import Notification

pytestmark = pytest.mark.django_db

CTX = {"tracking_number": "PK7Q2M9", "service_name": "Izin Reklame"}


@pytest.fixture
def other(db):
    from satupintu.identity.services import citizen_register

    return citizen_register(actor=None, full_name="Budi", password=PASSWORD, nik=NIK_KAMPAR_M, phone="081298765432")


def many(user, n):
    for i in range(n):
        services.notify_users(actor=None, recipients=[user], event="application.stage_passed",
                              context={**CTX, "tracking_number": f"T{i:03d}", "stage_name": "Verifikasi", "agency_name": "DPMPTSP"},
                              link=f"/p/{i}/")


def test_list_filter_read_and_read_all(api, citizen, other, django_assert_max_num_queries):
    many(citizen, 30)
    many(other, 2)
    token = api.token(citizen)
    with django_assert_max_num_queries(4):
        r = api.get("/notifications", {"page_size": 25}, token=token)
    body = r.json()
    assert r.status_code == 200 and body["count"] == 30 and body["unread_count"] == 30 and len(body["results"]) == 25
    first = body["results"][0]
    assert first["context"]["tracking_number"] == "T029" and first["title"].startswith("Permohonan T029")
    r = api.post(f"/notifications/{first['uuid']}/read", token=token)
    assert r.status_code == 200 and r.json()["read_at"]
    body = api.get("/notifications", {"unread": "true"}, token=token).json()
    assert body["count"] == 29 and body["unread_count"] == 29
    assert api.get("/notifications", {"unread": "false"}, token=token).json()["count"] == 1
    assert api.post("/notifications/read-all", token=token).json() == {"marked": 29}
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 2


def test_dates_follow_the_callers_language(client, citizen):
    services.notify_users(actor=None, recipients=[citizen], event="application.overdue",
                          context={**CTX, "stage_name": "Verifikasi", "agency_name": "DPMPTSP", "due_on": "2026-03-12"})
    client.force_login(citizen)
    r = client.get("/api/v1/notifications", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200 and "March 12, 2026" in r.json()["results"][0]["body"]


def test_refusals_and_bad_input(api, citizen, other):
    many(other, 1)
    foreign = Notification.objects.get()
    assert api.get("/notifications").status_code == 401
    token = api.token(citizen)
    r = api.post(f"/notifications/{foreign.uuid}/read", token=token)
    assert r.status_code == 404 and r.json()["code"] == "notification_not_found"
    assert api.post("/notifications/not-a-uuid/read", token=token).status_code == 404
    r = api.get("/notifications", {"page_size": 1000}, token=token)
    assert r.status_code == 400 and r.json()["code"] == "invalid_page_size" and r.json()["message"]
    assert api.get("/notifications", {"page": 0}, token=token).status_code == 400
    foreign.refresh_from_db()
    assert foreign.read_at is None


def test_inbox_page_badge_and_mark_read(client, citizen, django_assert_max_num_queries):
    many(citizen, 30)
    client.force_login(citizen)
    with django_assert_max_num_queries(8):
        r = client.get("/notifikasi/")
    html = r.content.decode()
    assert r.status_code == 200 and html.count('class="notification unread"') == 20
    assert '<span class="nav-count">30<' in html and "Halaman 1 dari 2" in html
    newest = Notification.objects.order_by("-created_at", "-id").first()
    r = client.post(f"/notifikasi/{newest.uuid}/baca/", {"next": "/notifikasi/?halaman=1"})
    assert r.status_code == 302 and r.url == "/notifikasi/?halaman=1"
    newest.refresh_from_db()
    assert newest.read_at is not None
    r = client.post(f"/notifikasi/{newest.uuid}/baca/", {"next": "https://evil.example/"})
    assert r.url == "/notifikasi/"  # no open redirect
    assert client.get("/notifikasi/?halaman=2").status_code == 200
    assert client.get("/notifikasi/?halaman=abc").status_code == 400
    assert client.get("/notifikasi/?halaman=9").status_code == 404
    client.post("/notifikasi/baca-semua/")
    html = client.get("/notifikasi/").content.decode()
    assert 'class="nav-count"' not in html and 'notification unread' not in html
    assert client.get("/notifikasi/baca-semua/").status_code == 405


def test_inbox_needs_sign_in_and_others_unaffected(client, citizen, other):
    assert client.get("/notifikasi/").status_code == 302
    many(other, 1)
    client.force_login(citizen)
    assert client.post(f"/notifikasi/{Notification.objects.get().uuid}/baca/").status_code == 404
    html = client.get("/").content.decode()
    assert "Notifikasi" in html and 'class="nav-count"' not in html


def test_counts_stop_at_their_caps(api, client, citizen, monkeypatch, django_assert_max_num_queries):
    """A busy officer gathers tens of thousands of notifications: the badge says "99+" and the
    list count stops at its cap instead of counting them all on every page."""
    from satupintu.notify import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 120)  # the real cap is 1,000; the rule is the same
    services.notify_users(actor=None, recipients=[citizen], event="application.stage_passed",
                          context={**CTX, "stage_name": "Verifikasi", "agency_name": "DPMPTSP"})
    template = Notification.objects.get()
    Notification.objects.bulk_create([Notification(recipient=citizen, event=template.event, context=template.context,
                                                   created_at=template.created_at, email_status="skipped")
                                      for _ in range(129)])  # 130 unread in all
    body = api.get("/notifications", token=api.token(citizen)).json()
    assert (body["count"], body["count_capped"]) == (120, True)
    assert (body["unread_count"], body["unread_count_capped"]) == (100, True)
    client.force_login(citizen)
    with django_assert_max_num_queries(8):
        html = client.get("/notifikasi/").content.decode()
    assert '<span class="nav-count">99+<' in html and "Halaman 1 dari 6" in html
    Notification.objects.filter(pk__in=list(Notification.objects.values_list("pk", flat=True)[:40])).update(
        read_at=template.created_at)
    body = api.get("/notifications", token=api.token(citizen)).json()
    assert (body["unread_count"], body["unread_count_capped"]) == (90, False) and body["count_capped"]


def test_pages_beyond_the_count_cap_stay_reachable(client, citizen, monkeypatch):
    from satupintu.notify import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 40)
    services.notify_users(actor=None, recipients=[citizen], event="application.stage_passed",
                          context={**CTX, "stage_name": "Verifikasi", "agency_name": "DPMPTSP"})
    template = Notification.objects.get()
    Notification.objects.bulk_create([Notification(recipient=citizen, event=template.event, context=template.context,
                                                   created_at=template.created_at, email_status="skipped")
                                      for _ in range(69)])  # 70 in all, 20 a page: page 4 has the last 10
    client.force_login(citizen)
    page2 = selectors.notification_page(actor=citizen, page=2)
    assert page2.capped and page2.has_next
    last = selectors.notification_page(actor=citizen, page=4)
    assert len(last.items) == 10 and not last.capped and not last.has_next and last.count == 70
    assert client.get("/notifikasi/?halaman=4").status_code == 200
    assert client.get("/notifikasi/?halaman=5").status_code == 404
