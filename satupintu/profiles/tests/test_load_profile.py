import shutil

import pytest
from django.core.management import CommandError, call_command

from conftest import NIK_KAMPAR_M, NIK_PEKANBARU_F
from satupintu.catalog import eligibility, selectors
from satupintu.catalog.models import Agency, Counter, Service, ServiceVersion
from satupintu.core import audit
from satupintu.core.models import AuditEntry
from satupintu.identity.models import User
from satupintu.profiles import loader

pytestmark = pytest.mark.django_db

WELL_KNOWN = {
    "disdukcapil": ["ktp-el", "kartu-keluarga", "akta-kelahiran", "akta-kematian", "pindah-datang"],
    "polresta": ["skck"], "imigrasi": ["paspor"], "bapenda-kota": ["pbb", "bphtb"],
    "bpjs-kesehatan": ["pendaftaran-peserta"], "bpjs-ketenagakerjaan": ["pendaftaran-peserta"],
    "dpmptsp": ["pbg", "slf", "pendampingan-nib", "izin-reklame", "sip-dokter", "sip-bidan", "sip-perawat", "tdup"],
}


def counts():
    return (
        Agency.objects.count(),
        Service.objects.filter(is_active=True, current_version__isnull=False).count(),
        Service.objects.filter(agency__slug="dpmptsp").count(),
        Service.objects.exclude(agency__slug="dpmptsp").count(),
        ServiceVersion.objects.count(),
        Counter.objects.count(),
    )


def test_mpp_pekanbaru_loads_26_tenants_and_173_services_twice_identically(capsys):
    call_command("load_profile", "mpp-pekanbaru", "--demo-accounts")
    first = counts()
    assert first[:4] == (26, 173, 96, 77)
    from satupintu.queueing.models import QueueGroup

    assert QueueGroup.objects.count() == 26 and QueueGroup.objects.get(prefix="B").services.count() == 13
    entries = AuditEntry.objects.count()
    call_command("load_profile", "mpp-pekanbaru", "--demo-accounts")
    assert counts() == first
    assert AuditEntry.objects.count() == entries  # nothing changed, nothing recorded
    assert "0 baru/berubah" in capsys.readouterr().out
    assert audit.verify().ok
    assert User.objects.filter(email="admin@mpp-pekanbaru.test", role="mall_admin").exists()


def test_well_known_services_carry_real_standards():
    call_command("load_profile", "mpp-pekanbaru")
    for agency, slugs in WELL_KNOWN.items():
        for slug in slugs:
            service = selectors.service_get(actor=None, key=slug, agency_slug=agency)
            v = selectors.service_version_get(actor=None, service=service)
            assert v.requirements.all(), (agency, slug)
            assert len(v.procedure) >= 3 and v.legal_basis and v.product and v.complaint_channels, (agency, slug)
            assert "lorem" not in (v.description + v.product).lower()
    skck = selectors.service_version_get(actor=None, service=selectors.service_get(actor=None, key="skck", agency_slug="polresta"))
    assert skck.fee == 30_000 and skck.fee_basis


def test_profile_search_and_eligibility_work_end_to_end():
    call_command("load_profile", "mpp-pekanbaru")
    page = selectors.service_search(actor=None, query="izin usaha", page_size=100)
    hits = [s.slug for s in page.items]
    assert {"konsultasi-perizinan", "pendampingan-nib"} <= set(hits)  # "Perizinan Berusaha", "Nomor Induk Berusaha"
    for top in page.items[:5]:  # names holding both words rank first
        assert {"izin", "usaha"} <= set(top.search_title.split()), top.name
    assert selectors.service_search(actor=None, query="akta kelahiran").items[0].slug == "akta-kelahiran"
    ktp = selectors.service_version_get(actor=None, service=selectors.service_get(actor=None, key="ktp-el", agency_slug="disdukcapil"))
    assert eligibility.check(ktp, nik=NIK_PEKANBARU_F, applicant_type="perorangan").eligible
    assert not eligibility.check(ktp, nik=NIK_KAMPAR_M, applicant_type="perorangan").eligible


def test_changed_file_publishes_a_new_version(tmp_path, monkeypatch):
    folder = tmp_path / "mpp-pekanbaru"
    shutil.copytree(loader.PROFILES_DIR / "mpp-pekanbaru", folder)
    monkeypatch.setattr(loader, "PROFILES_DIR", tmp_path)
    call_command("load_profile", "mpp-pekanbaru")
    path = folder / "agencies" / "08-polresta.toml"
    path.write_text(path.read_text().replace("fee = 30000", "fee = 35000", 1))
    call_command("load_profile", "mpp-pekanbaru")
    skck = Service.objects.get(agency__slug="polresta", slug="skck")
    assert skck.current_version.fee == 35_000 and skck.current_version.number == 2
    assert skck.versions.get(number=1).fee == 30_000


@pytest.mark.parametrize("breakage,message", [
    (lambda f: f.write_text(f.read_text().replace('kind = "pemda_kota"', 'kind = "kerajaan"', 1)), "jenis instansi"),
    (lambda f: f.write_text(f.read_text().replace("fee = 0", "fee = -1", 1)), "fee"),
    (lambda f: f.write_text(f.read_text() + "\n[[service]\n"), "TOML"),
    (lambda f: f.write_text(f.read_text().replace('type = "ktp-el"', 'type = "ktp-alien"', 1)), "ktp-alien"),
    # valid TOML of the wrong shape: listed problems, not an AttributeError
    (lambda f: (f.parent / "99-rusak.toml").write_text(
        'service = ["kk"]\ndefaults = "x"\n[agency]\nslug = "rusak"\nname = "Rusak"\nkind = "pemda_kota"\ncounters = "A1"\n'),
     r"counters harus berupa daftar tabel(.|\n)*\[defaults\] harus berupa tabel(.|\n)*service harus berupa daftar"),
    (lambda f: (f.parent / "99-rusak.toml").write_text('agency = "rusak"\n'), r"99-rusak.toml: tabel \[agency\]"),
])
def test_a_bad_profile_changes_nothing(tmp_path, monkeypatch, breakage, message):
    folder = tmp_path / "mpp-pekanbaru"
    shutil.copytree(loader.PROFILES_DIR / "mpp-pekanbaru", folder)
    monkeypatch.setattr(loader, "PROFILES_DIR", tmp_path)
    breakage(folder / "agencies" / "02-disdukcapil.toml")
    with pytest.raises(CommandError, match=message):
        call_command("load_profile", "mpp-pekanbaru")
    assert Agency.objects.count() == 0 and AuditEntry.objects.count() == 0


def test_unknown_profile():
    with pytest.raises(CommandError, match="tidak ada"):
        call_command("load_profile", "kota-antah-berantah")


def test_a_database_conflict_is_a_command_error_not_a_traceback(db, monkeypatch):
    from satupintu.core.errors import Conflict

    def clash(*args, **kwargs):
        raise Conflict("Kode loket A1 sudah dipakai instansi lain.", code="duplicate_counter")

    monkeypatch.setattr(loader, "load", clash)
    with pytest.raises(CommandError, match="tidak ada yang diubah: Kode loket A1"):
        call_command("load_profile", "mpp-pekanbaru")
