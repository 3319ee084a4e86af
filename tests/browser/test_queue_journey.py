"""The queue in real browsers: the kiosk issues a ticket, the officer panel calls it, and the
hall display (already open) shows it without a reload, with the spoken text prepared."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(site, make_officer):
    from satupintu.catalog.tests.factories import SYSTEM, make_agency
    from satupintu.queueing import services

    agency = make_agency(site, slug="disdukcapil", short_name="Disdukcapil")
    services.queue_group_create(actor=SYSTEM, agency=agency, prefix="B", name="Kependudukan")
    officer = make_officer(agency, role="front_office", email="fo@disdukcapil.test")
    return {"counter": agency.counters.first().code, "officer": officer}


def test_kiosk_counter_display(browser, live_server, queue, axe_check):
    public = browser.new_context(locale="id-ID", bypass_csp=True)
    kiosk, display = public.new_page(), public.new_page()
    display.goto(live_server.url + "/antrian/layar/")
    expect(display.locator("#latest")).to_have_text("—")
    axe_check(display, "display")

    kiosk.set_viewport_size({"width": 1080, "height": 1920})
    kiosk.goto(live_server.url + "/antrian/kiosk/")
    axe_check(kiosk, "kiosk")
    kiosk.get_by_label("Lansia").check()
    kiosk.get_by_role("button", name=re.compile("Disdukcapil")).click()
    expect(kiosk.locator(".ticket-number")).to_have_text("B001")
    expect(kiosk.get_by_text("0 antrean di depan Anda")).to_be_visible()
    axe_check(kiosk, "ticket")

    staff = browser.new_context(locale="id-ID", bypass_csp=True)
    panel = staff.new_page()
    panel.goto(live_server.url + f"/antrian/loket/{queue['counter']}/")
    panel.get_by_label("Email atau nomor HP").fill("fo@disdukcapil.test")
    panel.get_by_label("Kata sandi").fill(PASSWORD)
    panel.get_by_role("button", name="Masuk").click()
    panel.get_by_role("button", name="Buka loket").click()
    axe_check(panel, "counter panel")
    panel.get_by_role("button", name="Panggil berikutnya").click()
    expect(panel.locator(".ticket-number")).to_have_text("B001")

    # the display, open all along, shows the call within a second or two, without a reload
    expect(display.locator("#latest")).to_have_text(f"B001 → Loket {queue['counter']}", timeout=5000)
    expect(display.locator(f"[data-counter]").first).to_have_text("B001")

    panel.get_by_role("button", name="Panggil ulang").click()
    expect(display.locator("#history li")).to_have_count(2, timeout=5000)  # the recall is announced again
    panel.get_by_role("button", name="Mulai layani").click()
    panel.get_by_role("button", name="Selesai").click()
    expect(panel.get_by_role("button", name="Panggil berikutnya")).to_be_visible()
    kiosk.reload()
    expect(kiosk.get_by_text("Selesai")).to_be_visible()
    public.close()
    staff.close()
