"""The main citizen journey in a real browser: search → service detail → eligibility → register."""

import re

import pytest
from playwright.sync_api import expect

from conftest import NIK_KAMPAR_M, NIK_PEKANBARU_F, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(site):
    from satupintu.catalog.tests.factories import make_agency, make_service

    dpm = make_agency(site, slug="dpmptsp", short_name="DPMPTSP")
    duk = make_agency(site, slug="disdukcapil", short_name="Disdukcapil")
    make_service(dpm, slug="pendampingan-nib", kind="perizinan", name="Pendampingan Perizinan Berusaha (NIB) melalui OSS RBA",
                 description="Bantuan mendaftarkan usaha dan memperoleh NIB.", applicant_types=["perorangan", "badan_usaha"])
    make_service(duk, slug="akta-kelahiran", name="Penerbitan Akta Kelahiran", region_prefixes=["14.71"],
                 description="Pencatatan kelahiran penduduk Kota Pekanbaru.", completion_days=1)
    make_service(dpm, slug="izin-reklame", kind="perizinan", name="Izin Penyelenggaraan Reklame")


@pytest.mark.parametrize("width,height", [(390, 844), (1920, 1080)], ids=["phone", "kiosk"])
def test_search_detail_eligibility_register(page, live_server, catalogue, axe_check, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/")
    # the vendored stylesheet is served and applied (no CDN)
    expect(page.locator("header.top")).to_have_css("background-color", "rgb(11, 92, 171)")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    axe_check(page, "home")

    page.get_by_label("Cari layanan").fill("izin usaha")
    page.get_by_role("button", name="Cari").click()
    result = page.get_by_role("link", name=re.compile("Pendampingan Perizinan Berusaha"))
    expect(result).to_be_visible()
    expect(page.get_by_role("link", name="Penerbitan Akta Kelahiran")).to_have_count(0)
    axe_check(page, "search results")

    page.get_by_label("Cari layanan").fill("akta lahir")
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name="Penerbitan Akta Kelahiran").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Penerbitan Akta Kelahiran")
    expect(page.get_by_text("Perkiraan selesai bila berkas lengkap hari ini")).to_be_visible()
    expect(page.get_by_role("table", name="Alur penanganan berkas")).to_contain_text("Pemeriksaan kelengkapan berkas")
    axe_check(page, "service detail")

    # a Kampar NIK: told why not, in plain words, without a page reload (htmx)
    page.get_by_label("NIK Anda (16 digit)").fill(NIK_KAMPAR_M)
    page.get_by_role("button", name="Periksa").click()
    expect(page.get_by_text("Belum memenuhi syarat")).to_be_visible()
    expect(page.get_by_role("status").get_by_role("listitem")).to_contain_text("NIK Anda terdaftar di Kampar, Kabupaten Kampar")
    axe_check(page, "eligibility: no")

    page.get_by_label("NIK Anda (16 digit)").fill(NIK_PEKANBARU_F)
    page.get_by_role("button", name="Periksa").click()
    expect(page.get_by_text("Ya, Anda memenuhi syarat layanan ini.")).to_be_visible()
    page.get_by_role("link", name="Buat akun untuk mengajukan").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Daftar akun warga")
    page.get_by_label("Nama lengkap (sesuai KTP)").fill("Siti Rahmawati")
    page.get_by_label("NIK (16 digit)").fill("1471025208950000")  # serial 0000: refused, nothing stored
    page.get_by_label("Email").fill(f"siti.{width}@example.test")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Buat akun").click()
    expect(page.get_by_text(re.compile("tidak boleh 0000"))).to_be_visible()
    axe_check(page, "register with an error")

    page.get_by_label("NIK (16 digit)").fill(NIK_PEKANBARU_F)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Buat akun").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Profil saya")
    expect(page.get_by_text("Pekanbaru Kota, Kota Pekanbaru, Riau")).to_be_visible()
    axe_check(page, "profile")

    from satupintu.identity.models import User

    assert User.objects.filter(email=f"siti.{width}@example.test", citizen__nik=NIK_PEKANBARU_F).exists()


def test_forgotten_password_on_a_phone(page, live_server, citizen, axe_check, settings):
    """Siti forgot her password: the sign-in page leads to an e-mailed link, the link to a new
    password, and the new password signs her in."""
    import re as _re

    from django.core import mail

    from django_tasks_db.models import DBTaskResult

    from satupintu.identity.tasks import send_password_reset

    settings.SATUPINTU_PUBLIC_URL = live_server.url  # the links e-mails carry
    new = "Sandi-Baru-Sekali-2026"
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/akun/masuk/")
    page.get_by_role("link", name="Lupa kata sandi?").click()
    page.get_by_label("Email akun Anda").fill("siti@example.test")
    axe_check(page, "forgotten password")
    page.get_by_role("button", name="Kirim tautan").click()
    expect(page.get_by_role("heading", name="Periksa email Anda")).to_be_visible()
    [queued] = DBTaskResult.objects.filter(task_path="satupintu.identity.tasks.send_password_reset")
    assert send_password_reset.call(*queued.args_kwargs["args"]) == 1  # the worker sends it
    link = _re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_label("Kata sandi baru", exact=True).fill(new)
    page.get_by_label("Ulangi kata sandi baru").fill(new)
    axe_check(page, "new password")
    page.get_by_role("button", name="Simpan kata sandi").click()
    expect(page.get_by_role("heading", name="Kata sandi tersimpan")).to_be_visible()
    page.get_by_role("link", name="Masuk", exact=True).last.click()
    page.get_by_label("Email atau nomor HP").fill("siti@example.test")
    page.get_by_label("Kata sandi").fill(new)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("link", name="Permohonan Saya")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
