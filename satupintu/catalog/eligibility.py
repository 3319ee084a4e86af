"""Eligibility (*syarat kelayakan*) of an applicant for a service version: domicile by the NIK's
region prefix, applicant type, and minimum age from the NIK birth date. A "no" comes with
reasons in plain words."""

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from satupintu.core.errors import InvalidInput
from satupintu.identity import regions
from satupintu.identity.nik import NikFacts, parse_nik

from .models import ApplicantType, ServiceVersion


@dataclass
class Reason:
    code: str
    message: str


@dataclass
class EligibilityResult:
    eligible: bool
    reasons: list[Reason] = field(default_factory=list)
    facts: NikFacts | None = None


def check(version: ServiceVersion, *, nik: str, applicant_type: str, on: date | None = None) -> EligibilityResult:
    on = on or date.today()
    if applicant_type not in ApplicantType.values:
        raise InvalidInput(
            _("Jenis pemohon harus salah satu dari: %(v)s.") % {"v": ", ".join(ApplicantType.values)},
            code="invalid_applicant_type",
        )
    facts = parse_nik(nik)  # the century is read against today; `on` only sets the age
    reasons: list[Reason] = []
    if applicant_type not in version.applicant_types:
        allowed = ", ".join(str(ApplicantType(t).label).lower() for t in version.applicant_types)
        reasons.append(Reason("applicant_type", _("Layanan ini hanya untuk pemohon %(allowed)s, sedangkan Anda memilih %(chosen)s.")
                              % {"allowed": allowed, "chosen": str(ApplicantType(applicant_type).label).lower()}))
    if version.region_prefixes and not any(facts.district_code.startswith(p) for p in version.region_prefixes):
        served = _(" atau ").join(regions.describe(p) for p in version.region_prefixes)
        reasons.append(Reason("domicile", _(
            "Layanan ini hanya untuk penduduk dengan NIK terdaftar di %(served)s. "
            "NIK Anda terdaftar di %(district)s, %(regency)s, %(province)s."
        ) % {"served": served, "district": facts.district, "regency": facts.regency, "province": facts.province}))
    if version.min_age is not None:
        age = facts.age_on(on)
        if age < version.min_age:
            reasons.append(Reason("min_age", _(
                "Usia minimal untuk layanan ini %(min)d tahun; menurut tanggal lahir pada NIK, usia Anda %(age)d tahun."
            ) % {"min": version.min_age, "age": age}))
    return EligibilityResult(not reasons, reasons, facts)
