"""The shape of a *standar pelayanan*: validation of a version's content, shared by the API,
the admin and the profile loader, so each accepts and refuses exactly the same things."""

import hashlib

from django.utils.translation import gettext as _

from satupintu.core.audit import canonical
from satupintu.core.errors import InvalidInput
from satupintu.identity import regions

from .models import ApplicantType, DocumentType
from .workflow import workflow_problems

TEXT_FIELDS = (
    "description", "fee_basis", "product", "competence", "internal_supervision", "staff",
    "service_guarantee", "security_guarantee", "performance_evaluation",
)
LIST_FIELDS = ("procedure", "complaint_channels", "legal_basis", "facilities")
CONTENT_FIELDS = (
    "name", "applicant_types", "completion_days", "fee", "fee_variable", "min_age", "region_prefixes", "requirements",
    *TEXT_FIELDS, *LIST_FIELDS, "workflow", "deemed_approval",
)
MAX_TEXT = 5000
MAX_ITEMS = 60


def clean_content(data: dict, *, partial: bool = False, publishing: bool = False, owner_slug: str = "",
                  agency_slugs=(), completion_days: int | None = None) -> dict:
    """Return a normalised copy of `data`, or raise InvalidInput listing every bad field.

    A workflow is checked against the agencies of the site (`agency_slugs`; `owner_slug` is the
    service's own agency) and against `data["completion_days"]`, or `completion_days` when a
    partial change leaves it as it is. details["workflow"] is a list of every problem. A draft
    may lack a workflow; a version being published (`publishing`) may not."""
    errors: dict = {}
    out: dict = {}
    unknown = set(data) - set(CONTENT_FIELDS)
    for field in sorted(unknown):
        errors[field] = _("Kolom tidak dikenal.")
    required = () if partial else ("name", "applicant_types", "completion_days", "procedure")
    if publishing:
        required = (*required, "workflow")
    for field in required:
        if data.get(field) in (None, "", []):
            errors[field] = _("Wajib diisi.")

    def text(field, value, max_len=MAX_TEXT):
        if not isinstance(value, str):
            errors[field] = _("Harus berupa teks.")
        elif len(value) > max_len:
            errors[field] = _("Terlalu panjang (maks. %(n)d karakter).") % {"n": max_len}
        else:
            out[field] = value.strip()

    for field, value in data.items():
        if field in errors:
            continue
        if value is None and field != "min_age":  # only the minimum age can be "none"
            errors[field] = _("Tidak boleh kosong (null).")
            continue
        if field == "name":
            text(field, value, 250)
            if field in out and not out[field]:
                errors[field] = _("Wajib diisi.")
        elif field in TEXT_FIELDS:
            text(field, value)
        elif field in LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                errors[field] = _("Harus berupa daftar teks yang tidak kosong.")
            elif len(value) > MAX_ITEMS or any(len(v) > MAX_TEXT for v in value):
                errors[field] = _("Daftar terlalu panjang.")
            else:
                out[field] = [v.strip() for v in value]
        elif field == "applicant_types":
            allowed = set(ApplicantType.values)
            if not isinstance(value, list) or not value or not set(value) <= allowed:
                errors[field] = _("Pilih satu atau lebih dari: %(v)s.") % {"v": ", ".join(sorted(allowed))}
            else:
                out[field] = [v for v in ApplicantType.values if v in value]
        elif field in ("completion_days", "fee"):
            limit = 3650 if field == "completion_days" else 10**12
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
                errors[field] = _("Harus bilangan bulat 0 sampai %(n)s.") % {"n": f"{limit:,}".replace(",", ".")}
            else:
                out[field] = value
        elif field in ("fee_variable", "deemed_approval"):
            if not isinstance(value, bool):
                errors[field] = _("Harus true atau false.")
            else:
                out[field] = value
        elif field == "min_age":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120):
                errors[field] = _("Usia minimal harus 0–120 tahun atau kosong.")
            else:
                out[field] = value
        elif field == "region_prefixes":
            if not isinstance(value, list):
                errors[field] = _("Harus berupa daftar kode wilayah.")
                continue
            codes = []
            for v in value:
                region = regions.get(v) if isinstance(v, str) else None
                if region is None:
                    errors[field] = _("Kode wilayah Kemendagri tidak dikenal: %(v)s.") % {"v": v}
                    break
                codes.append(region.code)
            else:
                out[field] = codes
        elif field == "requirements":
            cleaned = _clean_requirements(value, errors)
            if cleaned is not None:
                out[field] = cleaned
    if "workflow" in data and "workflow" not in errors and data["workflow"] is not None:
        days = None if "completion_days" in errors else out.get("completion_days", completion_days)
        stages, problems = workflow_problems(data["workflow"], agency_slugs=set(agency_slugs), owner_slug=owner_slug,
                                             completion_days=days)
        if problems:
            errors["workflow"] = problems
        else:
            out["workflow"] = stages
    charged = out.get("fee", 0) or out.get("fee_variable", False)
    if not errors and charged and not (out.get("fee_basis") or "").strip() and not partial:
        errors["fee_basis"] = _("Dasar hukum biaya wajib diisi bila biaya lebih dari Rp0.")
    if errors:
        raise InvalidInput(_("Isian standar pelayanan tidak valid."), code="invalid_service_content", details=errors)
    return out


def _clean_requirements(value, errors) -> list[dict] | None:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        errors["requirements"] = _("Harus berupa daftar persyaratan.")
        return None
    cleaned = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            errors["requirements"] = _("Setiap persyaratan perlu jenis dokumen (type).")
            return None
        mandatory = item.get("mandatory", True)
        note = item.get("note", "") or ""
        if not isinstance(mandatory, bool) or not isinstance(note, str) or len(note) > 300:
            errors["requirements"] = _("Persyaratan tidak valid: %(t)s.") % {"t": item["type"]}
            return None
        cleaned.append({"type": item["type"], "mandatory": mandatory, "note": note.strip()})
    codes = {c["type"] for c in cleaned}
    if len(codes) != len(cleaned):
        errors["requirements"] = _("Satu jenis dokumen hanya boleh disebut sekali dalam persyaratan.")
        return None
    known = set(DocumentType.objects.filter(code__in=codes).values_list("code", flat=True))
    missing = sorted(codes - known)
    if missing:
        errors["requirements"] = _("Jenis dokumen tidak dikenal: %(c)s.") % {"c": ", ".join(missing)}
        return None
    return cleaned


def content_digest(kind: str, content: dict) -> str:
    return hashlib.sha256(canonical({"kind": kind, **content}).encode()).hexdigest()


def version_content(version) -> dict:
    """A version's content in the same shape `clean_content` returns (requirements prefetched)."""
    data = {f: getattr(version, f) for f in CONTENT_FIELDS if f != "requirements"}
    data["requirements"] = [
        {"type": r.document_type.code, "mandatory": r.mandatory, "note": r.note} for r in version.requirements.all()
    ]
    return data
