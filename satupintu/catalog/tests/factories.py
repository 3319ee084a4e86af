"""Test data built through the same service functions the product uses."""

import itertools

from satupintu.catalog import services
from satupintu.catalog.models import Agency, DocumentType, Site
from satupintu.core.permissions import SystemActor

SYSTEM = SystemActor("tests")
_seq = itertools.count(1)

BASE_CONTENT = {
    "description": "Layanan untuk pengujian.",
    "applicant_types": ["perorangan"],
    "procedure": ["Ambil antrean", "Serahkan berkas di loket", "Petugas memeriksa kelengkapan", "Dokumen diserahkan"],
    "completion_days": 3,
    "fee": 0,
    "product": "Dokumen hasil layanan",
    "complaint_channels": ["Loket pengaduan MPP", "SP4N-LAPOR!"],
    "legal_basis": ["UU 25/2009 tentang Pelayanan Publik"],
    "facilities": ["Ruang tunggu ber-AC", "Kursi roda"],
    "competence": "Memahami standar pelayanan",
    "internal_supervision": "Atasan langsung",
    "staff": "2 orang",
    "service_guarantee": "Maklumat pelayanan",
    "security_guarantee": "Data pemohon dijaga kerahasiaannya",
    "performance_evaluation": "Survei kepuasan masyarakat setiap semester",
}


def make_site(slug="mpp-pekanbaru", closures=None) -> Site:
    site, _ = services.site_upsert(
        actor=SYSTEM, slug=slug,
        data={"name": "Mal Pelayanan Publik Kota Pekanbaru", "address": "Jl. Jenderal Sudirman", "timezone": "Asia/Jakarta",
              "region_code": "14.71", "opening_hours": {d: ["08:00", "15:00"] for d in ("mon", "tue", "wed", "thu", "fri")}},
        closures=closures or {},
    )
    return site


def make_document_types():
    services.document_types_upsert(actor=SYSTEM, items=[
        {"code": "ktp-el", "name": "KTP-el", "description": ""},
        {"code": "kk", "name": "Kartu Keluarga", "description": ""},
        {"code": "nib", "name": "Nomor Induk Berusaha", "description": ""},
    ])
    return DocumentType.objects.all()


def make_agency(site=None, slug=None, short_name=None, kind="pemda_kota") -> Agency:
    site = site or Site.objects.first() or make_site()
    n = next(_seq)
    slug = slug or f"instansi-{n}"
    agency, _ = services.agency_upsert(
        actor=SYSTEM, site=site, slug=slug,
        data={"name": f"Dinas Uji {n}", "short_name": short_name or f"DU{n}", "kind": kind, "description": "", "position": n},
        counters=[{"code": f"Z{n}", "name": f"Loket {n}"}],
    )
    return agency


def simple_workflow(completion_days: int = 3) -> list[dict]:
    """Completeness check (front office) → verification (verifier) → approval (head), all by the
    service's own agency, with SLAs that add up to `completion_days`."""
    first = 1 if completion_days >= 3 else 0
    last = 1 if completion_days >= 2 else 0
    return [
        {"key": "kelengkapan", "kind": "completeness_check", "name": "Pemeriksaan kelengkapan berkas",
         "agencies": ["{owner}"], "role": "front_office", "sla_days": first, "after": []},
        {"key": "verifikasi", "kind": "technical_review", "name": "Verifikasi oleh back office",
         "agencies": ["{owner}"], "role": "verifier", "sla_days": completion_days - first - last, "after": ["kelengkapan"]},
        {"key": "persetujuan", "kind": "approval", "name": "Persetujuan kepala",
         "agencies": ["{owner}"], "role": "head", "sla_days": last, "after": ["verifikasi"]},
    ]


def make_service(agency=None, slug=None, name=None, kind="non_perizinan", workflow=None, **content):
    """A published service. Without `workflow` it gets `simple_workflow` for its own agency;
    "{owner}" in a given workflow means the service's agency."""
    agency = agency or make_agency()
    if not DocumentType.objects.filter(code="ktp-el").exists():
        make_document_types()
    n = next(_seq)
    days = content.get("completion_days", BASE_CONTENT["completion_days"])
    data = {**BASE_CONTENT, "name": name or f"Layanan Uji {n}", "requirements": [{"type": "ktp-el", "mandatory": True}],
            "workflow": workflow if workflow is not None else simple_workflow(days), **content}
    service, _ = services.service_sync_published(actor=SYSTEM, agency=agency, slug=slug or f"layanan-{n}", kind=kind, content=data)
    return service
