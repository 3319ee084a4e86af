"""An agency admin manages the agency's officers in a real browser, on a phone screen: adds one,
finds them in the list, and deactivates a front-office officer who left (their claimed stage
goes back to the inbox, and they can no longer sign in)."""

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agency_admin_adds_and_deactivates_officers(page, live_server, submitted, officers, agency, make_officer,
                                                    axe_check):
    from satupintu.cases import services as cases
    from satupintu.cases.models import StageTask, TaskStatus
    from satupintu.identity.models import User

    make_officer(agency, role="agency_admin", email="admin@dpmptsp.test")
    fo = officers["dpmptsp:front_office"]
    task = StageTask.objects.get(application=submitted, status=TaskStatus.ACTIVE)
    cases.task_claim(actor=fo, task=task)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/akun/masuk/")
    page.get_by_label("Email atau nomor HP").fill("admin@dpmptsp.test")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("link", name="Petugas", exact=True).click()
    expect(page.get_by_role("heading", name="Petugas — DPMPTSP")).to_be_visible()
    axe_check(page, "staff list")

    page.get_by_role("link", name="Tambah petugas").click()
    page.get_by_label("Nama lengkap").fill("Rina Putri")
    page.get_by_label("Email (untuk masuk)").fill("rina@dpmptsp.test")
    page.get_by_label("Peran").select_option(label="Verifikator / back office")
    page.get_by_label("Kata sandi awal").fill("pendek")
    page.get_by_role("button", name="Buat akun petugas").click()
    expect(page.locator(".field-error")).not_to_have_count(0)  # refused: what was typed stays
    expect(page.get_by_label("Nama lengkap")).to_have_value("Rina Putri")
    axe_check(page, "staff form with errors")
    page.get_by_label("Kata sandi awal").fill(PASSWORD)
    page.get_by_role("button", name="Buat akun petugas").click()
    expect(page.get_by_role("status")).to_contain_text("Akun petugas Rina Putri dibuat")
    expect(page.get_by_role("link", name="Rina Putri")).to_be_visible()

    page.get_by_label("Nama atau email").fill(fo.email)
    page.get_by_role("button", name="Saring").click()
    page.get_by_role("link", name=fo.full_name).click()
    page.get_by_label("Nonaktif: tidak bisa masuk; tahap yang diambilnya dilepas").check()
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_role("status")).to_contain_text("1 tahap yang diambilnya dilepas")
    expect(page.get_by_label("Nonaktif: tidak bisa masuk; tahap yang diambilnya dilepas")).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    axe_check(page, "staff edit")
    assert not User.objects.get(pk=fo.pk).is_active
    task.refresh_from_db()
    assert task.claimed_by_id is None
