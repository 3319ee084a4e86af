"""The PBG journey in real browsers: a citizen applies online with a document, the file passes
every agency (front office, back office, PUPR review and field inspection with its BAP, a
technical team of three agencies, the head's approval, handover), and anyone with the tracking
number and the applicant's birth date follows it on the public tracking page."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def sign_in(page, url, email):
    page.goto(url)
    page.get_by_label("Email atau nomor HP").fill(email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()


def test_pbg_from_submission_to_approval_and_tracking(browser, live_server, citizen, pbg, officers, axe_check):
    base = live_server.url
    warga = browser.new_context(locale="id-ID", bypass_csp=True, viewport={"width": 390, "height": 844}).new_page()
    warga.goto(base + "/layanan/dpmptsp/pbg/")
    axe_check(warga, "service page")
    warga.get_by_role("button", name="Ajukan permohonan daring").click()
    warga.get_by_label("Email atau nomor HP").fill(citizen.email)
    warga.get_by_label("Kata sandi").fill(PASSWORD)
    warga.get_by_role("button", name="Masuk").click()
    warga.get_by_role("button", name="Ajukan permohonan daring").click()
    expect(warga.get_by_role("heading", name="Persetujuan Bangunan Gedung")).to_be_visible()
    axe_check(warga, "draft")
    warga.get_by_label("Unggah berkas (PDF, JPG, PNG)").set_input_files(
        files=[{"name": "ktp.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    warga.get_by_role("button", name="Lampirkan").click()
    expect(warga.locator(".msg-success")).to_contain_text("Dokumen dilampirkan")
    warga.get_by_role("button", name="Ajukan permohonan").click()
    notice = warga.get_by_text(re.compile("Nomor registrasi Anda: "))
    expect(notice).to_be_visible()
    number = re.search(r"Nomor registrasi Anda: (\w+)", notice.inner_text()).group(1)
    axe_check(warga, "submitted")

    def decide(key, report=False, team_agency=None):
        email = officers[key].email
        page = browser.new_context(locale="id-ID", bypass_csp=True).new_page()
        sign_in(page, base + "/kantor/", email)
        axe_check(page, f"inbox {key}")
        page.get_by_role("link", name=number).click()
        if report:
            page.get_by_label(re.compile("Berita acara pemeriksaan")).set_input_files(
                files=[{"name": "bap.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        page.get_by_role("button", name="Setujui tahap ini").click()
        expect(page.locator(".msg-success")).to_have_text("Tahap disetujui.")
        page.context.close()

    decide("dpmptsp:front_office")
    decide("dpmptsp:verifier")
    decide("pupr:technical_reviewer")
    decide("pupr:technical_reviewer", report=True)
    for key in ("pupr:technical_reviewer", "dpmptsp:technical_reviewer", "bapenda:technical_reviewer"):
        decide(key)
    decide("dpmptsp:head")
    decide("dpmptsp:front_office")

    warga.goto(base + "/permohonan/")
    expect(warga.locator(".results .badge-approved")).to_have_text("Disetujui")
    axe_check(warga, "my applications")

    public = browser.new_context(locale="id-ID", bypass_csp=True).new_page()
    public.goto(base + "/lacak/")
    public.get_by_label("Nomor registrasi").fill(number)
    public.get_by_label("Tanggal lahir pemohon").fill("1995-08-12")
    public.get_by_role("button", name="Lacak").click()
    expect(public.locator(".badge-approved")).to_have_text("Disetujui")
    expect(public.get_by_text("Rapat tim teknis").first).to_be_visible()
    expect(public.get_by_text("Siti")).to_have_count(0)
    axe_check(public, "tracking")
