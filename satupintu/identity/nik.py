"""NIK (Nomor Induk Kependudukan) and KK number validation.

NIK = PP KK CC (Kemendagri district where first registered) + DD MM YY (birth date; women add
40 to the day) + SSSS (serial from 0001). The region must exist in the vendored code list.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from satupintu.core.errors import InvalidInput

from . import regions


@dataclass(frozen=True)
class NikFacts:
    nik: str
    sex: str  # "L" (laki-laki) | "P" (perempuan)
    birth_date: date
    district_code: str
    district: str
    regency_code: str
    regency: str
    province_code: str
    province: str
    serial: str

    def age_on(self, on: date) -> int:
        years = on.year - self.birth_date.year
        if (on.month, on.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    def as_dict(self) -> dict:
        return {
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat(),
            "district_code": self.district_code,
            "district": self.district,
            "regency_code": self.regency_code,
            "regency": self.regency,
            "province_code": self.province_code,
            "province": self.province,
        }


def _bad(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code)


def parse_nik(value: str, *, today: date | None = None) -> NikFacts:
    """Validate a NIK and return what it tells; raise InvalidInput with a plain reason."""
    today = today or date.today()
    nik = (value or "").strip().replace(" ", "")
    if not nik.isdigit() or not nik.isascii():
        raise _bad(_("NIK hanya boleh berisi angka."), "nik_not_digits")
    if len(nik) != 16:
        raise _bad(_("NIK harus 16 digit (yang dimasukkan %(n)d digit).") % {"n": len(nik)}, "nik_length")
    district_code = regions.normalise(nik[:6])
    chain = regions.lineage(district_code)
    if len(chain) != 3:
        raise _bad(
            _("Kode wilayah %(code)s pada NIK tidak terdaftar sebagai kecamatan Kemendagri.") % {"code": district_code},
            "nik_unknown_region",
        )
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "L"
    if day > 40:
        sex, day = "P", day - 40
    try:  # the two-digit year is this century unless that date has not come yet
        birth = date(2000 + yy, month, day)
        if birth > today:
            birth = date(1900 + yy, month, day)
    except ValueError:
        raise _bad(_("Tanggal lahir pada NIK (digit 7–12) tidak valid."), "nik_bad_birth_date") from None
    serial = nik[12:]
    if serial == "0000":
        raise _bad(_("Nomor urut NIK (4 digit terakhir) tidak boleh 0000."), "nik_bad_serial")
    province, regency, district = chain
    return NikFacts(
        nik=nik, sex=sex, birth_date=birth, serial=serial,
        district_code=district.code, district=district.name,
        regency_code=regency.code, regency=regency.name,
        province_code=province.code, province=province.name,
    )


def validate_kk(value: str) -> str:
    """KK numbers: 16 digits starting with an existing district code (nothing more is regulated)."""
    kk = (value or "").strip().replace(" ", "")
    if not kk.isdigit() or not kk.isascii() or len(kk) != 16:
        raise _bad(_("Nomor KK harus 16 digit angka."), "kk_invalid")
    if len(regions.lineage(kk[:6])) != 3:
        raise _bad(_("Kode wilayah pada nomor KK tidak terdaftar."), "kk_unknown_region")
    return kk
