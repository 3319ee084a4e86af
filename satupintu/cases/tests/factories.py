"""A PBG-like multi-agency setup built through the product's own service functions."""

from satupintu.catalog.tests.factories import SYSTEM, make_agency, make_service

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

PBG_WORKFLOW = [
    {"key": "kelengkapan", "kind": "completeness_check", "name": "Pemeriksaan kelengkapan", "agencies": ["dpmptsp"],
     "role": "front_office", "sla_days": 1, "after": []},
    {"key": "entri", "kind": "data_entry", "name": "Entri data", "agencies": ["dpmptsp"], "role": "verifier",
     "sla_days": 1, "after": ["kelengkapan"]},
    {"key": "kajian", "kind": "technical_review", "name": "Kajian teknis PUPR", "agencies": ["pupr"],
     "role": "technical_reviewer", "sla_days": 2, "after": ["entri"]},
    {"key": "tinjau", "kind": "field_inspection", "name": "Tinjau lapangan", "agencies": ["pupr"],
     "role": "technical_reviewer", "sla_days": 2, "after": ["kajian"]},
    {"key": "tim-teknis", "kind": "technical_team", "name": "Rapat tim teknis", "agencies": ["pupr", "dpmptsp", "bapenda"],
     "role": "technical_reviewer", "sla_days": 2, "after": ["tinjau"]},
    {"key": "ttd", "kind": "approval", "name": "Penandatanganan kepala DPMPTSP", "agencies": ["dpmptsp"], "role": "head",
     "sla_days": 1, "after": ["tim-teknis"]},
    {"key": "serah", "kind": "handover", "name": "Penyerahan", "agencies": ["dpmptsp"], "role": "front_office",
     "sla_days": 0, "after": ["ttd"]},
]


def make_pbg(agency, *, deemed_approval=False, **content):
    """The PBG service of `agency` (slug dpmptsp) with PUPR and Bapenda as the other agencies, and
    the BAP document type its field inspection needs (a migration adds it; a transactional test
    before this one may have flushed it)."""
    from satupintu.catalog.models import Agency, DocumentType

    DocumentType.objects.get_or_create(code="bap", defaults={"name": "Berita Acara Pemeriksaan (BAP) tinjau lapangan"})

    site = agency.site
    for slug, short in (("pupr", "PUPR"), ("bapenda", "Bapenda")):
        if not Agency.objects.filter(site=site, slug=slug).exists():
            make_agency(site, slug=slug, short_name=short)
    return make_service(agency, slug="pbg", name="Persetujuan Bangunan Gedung", kind="perizinan",
                        completion_days=10, workflow=PBG_WORKFLOW, deemed_approval=deemed_approval,
                        applicant_types=["perorangan", "badan_usaha"], **content)
