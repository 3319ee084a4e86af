"""Notifications in a real browser: the nav badge counts unread ones, the inbox lists them newest
first, and marking one (then all) read clears the highlight and the badge — on a phone screen."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def inbox(citizen):
    from satupintu.notify import services

    ctx = {"tracking_number": "PK7Q2M9", "service_name": "Izin Penyelenggaraan Reklame"}
    services.notify_users(actor=None, recipients=[citizen], event="application.submitted", context=ctx, link="/")
    services.notify_users(actor=None, recipients=[citizen], event="application.returned",
                          context={**ctx, "reason": "Foto KTP tidak terbaca"}, link="/")
    services.notify_users(actor=None, recipients=[citizen], event="application.approved", context=ctx, link="/")
    return citizen


def test_inbox_mark_read(page, live_server, inbox, axe_check):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/notifikasi/")
    page.get_by_label("Email atau nomor HP").fill("siti@example.test")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Notifikasi")).to_be_visible()
    expect(page.locator(".nav-count")).to_have_text("3 belum dibaca")
    items = page.locator("li.notification")
    expect(items).to_have_count(3)
    expect(items.first).to_contain_text("Permohonan PK7Q2M9 disetujui")  # newest first
    expect(items.nth(1)).to_contain_text("Alasan: Foto KTP tidak terbaca")
    expect(page.locator("li.notification.unread")).to_have_count(3)
    axe_check(page, "inbox")

    page.get_by_role("button", name=re.compile(r"^Tandai sudah dibaca\W+Permohonan PK7Q2M9 disetujui$")).click()
    expect(page.locator("li.notification.unread")).to_have_count(2)
    expect(page.locator(".nav-count")).to_have_text("2 belum dibaca")
    page.get_by_role("button", name="Tandai semua sudah dibaca").click()
    expect(page.locator("li.notification.unread")).to_have_count(0)
    expect(page.locator(".nav-count")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("2 notifikasi ditandai sudah dibaca")
    axe_check(page, "inbox, all read")


def test_agency_admin_registers_a_webhook(page, live_server, agency, make_officer, axe_check):
    from satupintu.notify import services

    admin = make_officer(agency, role="agency_admin", email="admin@dpmptsp.test")
    services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.dpmptsp.example/hooks/satupintu/long/path")
    services.webhook_emit(agency_ids=[agency.pk], event="application.approved", payload={"tracking_number": "PK7Q2M9"})
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/kantor/webhook/")
    page.get_by_label("Email atau nomor HP").fill("admin@dpmptsp.test")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.get_by_label("URL penerima (http/https)").fill("https://b.example/hook")
    page.get_by_label("Permohonan disetujui").check()
    page.get_by_role("button", name="Tambah", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("whsec_")
    expect(page.locator(".deliveries tbody tr")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    axe_check(page, "webhooks")
    page.reload()
    expect(page.get_by_role("alert")).to_have_count(0)  # the secret is shown once
    # the agency's system was down until its tries ran out: once it is back, send it again
    from satupintu.notify.models import WebhookDelivery

    WebhookDelivery.objects.update(status="failed", attempts=8, last_status_code=503, next_attempt_at=None)
    page.reload()
    expect(page.locator(".deliveries tbody tr").first).to_contain_text("Gagal")
    page.locator(".deliveries").get_by_role("button", name=re.compile("^Kirim ulang")).click()
    expect(page.get_by_role("status")).to_contain_text("1 pengiriman yang gagal dikirim ulang")
    expect(page.locator(".deliveries tbody tr").first).to_contain_text("Menunggu")
    expect(page.locator(".deliveries").get_by_role("button")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page, "webhooks, after sending again")
    # SatuPintu switched the first endpoint off after it failed for three days: the admin sees why
    # and switches it on again once the system is back
    from datetime import timedelta

    from django.utils import timezone

    from satupintu.notify.models import WebhookEndpoint

    long_url = "https://sistem.dpmptsp.example/hooks/satupintu/long/path"
    WebhookEndpoint.objects.filter(url=long_url).update(
        is_active=False, disabled_by_failures=True, disabled_at=timezone.now(),
        failing_since=timezone.now() - timedelta(days=3))
    page.reload()
    expect(page.get_by_text("Dinonaktifkan otomatis")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Aktifkan lagi")).click()
    expect(page.get_by_role("status")).to_contain_text("Webhook diaktifkan lagi")
    expect(page.get_by_role("button", name=re.compile(r"^Nonaktifkan.*long.path"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page, "webhooks, switched on again")
    assert WebhookEndpoint.objects.get(url=long_url).is_active
