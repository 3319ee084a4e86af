"""The PBG journey in real browsers: a citizen applies online with a document, the file passes
every agency (front office, back office, PUPR review and field inspection with its BAP, a
technical team of three agencies, the head's approval, handover), and anyone with the tracking
number and the applicant's birth date follows it on the public tracking page. And the decision
forms on the officer's page: a refused decision keeps what was typed, the head releases a claim
of an officer who is away, and a rejection has its own form that asks to be confirmed."""

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
            axe_check(page, f"application {key}")  # the decision forms: approve with the BAP, return, reject
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


def box_height(locator) -> float:
    return locator.bounding_box()["height"]


@pytest.mark.parametrize("viewport,touch,tap", [({"width": 360, "height": 740}, True, 44),
                                                ({"width": 1080, "height": 1920}, True, 56)], ids=["phone", "kiosk"])
def test_a_draft_keeps_what_was_typed(browser, live_server, citizen, pbg, ktp, axe_check, viewport, touch, tap):
    """A refused "Simpan draf" shows the error as an alert and keeps every field; "Lampirkan" keeps
    the fields typed but not saved; a second "Ajukan permohonan daring" goes back to the draft;
    deleting asks first. On a phone and on the portrait touch kiosk every control is a touch target."""
    base = live_server.url
    page = browser.new_context(locale="id-ID", bypass_csp=True, viewport=viewport, has_touch=touch).new_page()
    sign_in(page, base + "/akun/masuk/?next=/layanan/dpmptsp/pbg/", citizen.email)
    page.get_by_role("button", name="Ajukan permohonan daring").click()
    draft_url = page.url
    assert "/permohonan/" in draft_url

    page.get_by_role("radio", name="Badan usaha").check()
    page.get_by_label("Nama badan usaha").fill("CV Maju Jaya")
    page.get_by_label("NIB", exact=True).fill("12ab")
    page.get_by_label("Keterangan (opsional)").fill("Rumah dua lantai")
    page.get_by_role("button", name="Simpan draf").click()
    expect(page.get_by_role("alert")).to_contain_text("Gagal: Data permohonan belum benar.")
    expect(page.locator(".msg-error")).to_have_css("background-color", "rgb(253, 236, 236)")
    expect(page.get_by_role("radio", name="Badan usaha")).to_be_checked()
    expect(page.get_by_label("Nama badan usaha")).to_have_value("CV Maju Jaya")
    expect(page.get_by_label("NIB", exact=True)).to_have_value("12ab")
    expect(page.get_by_label("NIB", exact=True)).to_have_accessible_description("NIB terdiri dari 13 angka.")
    expect(page.get_by_label("Keterangan (opsional)")).to_have_value("Rumah dua lantai")
    axe_check(page, "draft with an error")

    # touch targets: the kiosk's sizing applies on the portrait touch screen too
    for control in (page.get_by_role("button", name="Lampirkan"), page.get_by_role("button", name="English"),
                    page.locator(".crumbs a"), page.get_by_role("button", name="Simpan draf")):
        assert box_height(control) >= tap - 0.5, control
    # the focus ring: dark amber (≥ 3:1 on white), on a textarea too
    page.get_by_label("Keterangan (opsional)").focus()
    expect(page.get_by_label("Keterangan (opsional)")).to_have_css("outline-color", "rgb(180, 83, 9)")

    # "Lampirkan" with the fields corrected but not saved: both kept
    page.get_by_label("NIB", exact=True).fill("1234567890123")
    page.get_by_role("radio", name=re.compile("ktp.pdf")).check()
    page.get_by_role("button", name="Lampirkan").click()
    expect(page.get_by_role("status")).to_contain_text("Perubahan disimpan.")
    expect(page.get_by_role("status")).to_contain_text("Dokumen dilampirkan")
    page.reload()
    expect(page.get_by_label("NIB", exact=True)).to_have_value("1234567890123")
    expect(page.get_by_label("Keterangan (opsional)")).to_have_value("Rumah dua lantai")

    # the service page again: it leads back to this draft, not to a new one
    page.goto(base + "/layanan/dpmptsp/pbg/")
    expect(page.get_by_role("button", name="Ajukan permohonan daring")).to_have_count(0)
    expect(page.locator(".apply")).to_contain_text("Anda sudah punya draf permohonan layanan ini (dibuat ")
    resume = page.get_by_role("link", name="Lanjutkan draf permohonan")
    assert box_height(resume) >= tap - 0.5
    axe_check(page, "service page with a draft")
    resume.click()
    assert page.url == draft_url
    page.goto(base + "/permohonan/")
    expect(page.locator(".results .result")).to_have_count(1)
    expect(page.locator(".results .result")).to_contain_text("dibuat")
    axe_check(page, "my applications with a draft")

    # deleting asks first (no script needed)
    page.goto(draft_url)
    confirm = page.get_by_role("button", name="Ya, hapus draf")
    expect(confirm).to_be_hidden()
    page.get_by_text("Hapus draf", exact=True).click()
    expect(confirm).to_be_visible()
    axe_check(page, "draft, delete confirmation open")
    confirm.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Permohonan Saya")
    expect(page.get_by_role("status")).to_contain_text("Draf dihapus.")

    from satupintu.cases.models import Application

    assert not Application.objects.exists()


def test_officer_page_release_kept_text_and_confirmed_rejection(browser, live_server, submitted, officers, axe_check):
    base = live_server.url
    url = f"{base}/kantor/permohonan/{submitted.uuid}/"
    fo = browser.new_context(locale="id-ID", bypass_csp=True).new_page()
    sign_in(fo, base + "/kantor/", officers["dpmptsp:front_office"].email)
    fo.goto(url)
    fo.get_by_role("button", name="Ambil").click()
    expect(fo.locator(".msg-success")).to_have_text("Tahap diambil.")

    # the head releases the claim (the officer is away); the officer's open page is now out of date
    head = browser.new_context(locale="id-ID", bypass_csp=True).new_page()
    sign_in(head, base + "/kantor/", officers["dpmptsp:head"].email)
    head.goto(url)
    axe_check(head, "officer page, head")
    head.get_by_role("button", name="Lepas klaim Petugas front_office").click()
    expect(head.locator(".msg-success")).to_contain_text("Tahap yang diambil Petugas front_office dilepas")
    head.context.close()

    reason = "Foto KTP buram; unggah ulang hasil pindai yang jelas."
    fo.get_by_label("Yang harus diperbaiki pemohon").fill(reason)
    fo.get_by_role("button", name="Kembalikan ke pemohon").click()
    expect(fo.locator(".msg-error").first).to_contain_text("sudah berubah")
    expect(fo.get_by_label("Yang harus diperbaiki pemohon")).to_have_value(reason)  # kept after the 409

    # rejecting: its own fields, and nothing is sent until the officer ticks the confirmation
    fo.get_by_label("Alasan penolakan (wajib)").fill("Lokasi bangunan berada di jalur hijau.")
    fo.get_by_label("Dasar hukum penolakan (wajib)").fill("Pasal 12 ayat (2) Perda Kota Pekanbaru 7/2021")
    axe_check(fo, "officer page, reject form filled")
    fo.get_by_role("button", name="Tolak permohonan").click()
    assert fo.get_by_label("Saya yakin menolak permohonan ini").evaluate("el => el.validity.valueMissing")
    expect(fo.locator(".msg-success")).to_have_count(0)
    fo.get_by_label("Saya yakin menolak permohonan ini").check()
    fo.get_by_role("button", name="Tolak permohonan").click()
    expect(fo.locator(".msg-success")).to_have_text("Permohonan ditolak.")
    expect(fo.locator(".alert", has_text="Alasan penolakan")).to_contain_text("Dasar hukum: Pasal 12 ayat (2)")
    axe_check(fo, "officer page, rejected")


def test_walk_in_officer_uses_stored_documents_only_with_the_citizens_code(browser, live_server, citizen, pbg, ktp,
                                                                           officers, axe_check):
    """Siti keeps her KTP in her account and comes to the counter: the officer sees it only after
    Siti reads out the code her phone received, then attaches it and files."""
    from conftest import NIK_PEKANBARU_F
    from satupintu.cases import services
    from satupintu.cases.models import Status
    from satupintu.notify.models import Notification

    fo = officers["dpmptsp:front_office"]
    app = services.application_create(actor=fo, service=pbg, walk_in={"nik": NIK_PEKANBARU_F, "full_name": "Siti"}).application
    page = browser.new_context(locale="id-ID", bypass_csp=True, viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, live_server.url + f"/permohonan/{app.uuid}/", fo.email)
    expect(page.get_by_role("heading", name="Dokumen yang tersimpan di akun pemohon")).to_be_visible()
    expect(page.get_by_text("ktp.pdf")).to_have_count(0)
    page.get_by_role("button", name="Kirim kode ke pemohon").click()
    expect(page.get_by_role("status")).to_contain_text("Kode dikirim ke Siti Rahmawati")
    axe_check(page, "walk-in draft, code sent")
    page.get_by_label("Kode dari pemohon (6 angka)").fill("12345")  # five digits: the server says what it wants
    page.get_by_role("button", name="Buka dokumen pemohon").click()
    expect(page.get_by_role("alert")).to_contain_text("6 angka")
    code = Notification.objects.get(event="application.vault_consent_requested", recipient=citizen).context["code"]
    page.get_by_label("Kode dari pemohon (6 angka)").fill(code)
    page.get_by_role("button", name="Buka dokumen pemohon").click()
    expect(page.get_by_role("status")).to_contain_text("Pemohon memberi izin")
    page.get_by_label(re.compile("ktp.pdf")).check()
    page.get_by_role("button", name="Ajukan permohonan").click()
    expect(page.get_by_role("status")).to_contain_text("Nomor registrasi pemohon")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    axe_check(page, "walk-in application filed")
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED and app.attachments.get().document_id == ktp.pk
