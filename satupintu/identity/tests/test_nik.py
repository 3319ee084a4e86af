from datetime import date

import pytest

from satupintu.core.errors import InvalidInput
from satupintu.identity import regions
from satupintu.identity.nik import parse_nik, validate_kk

TODAY = date(2026, 11, 28)


def test_valid_male_nik():
    facts = parse_nik("1401021203880002", today=TODAY)
    assert facts.sex == "L"
    assert facts.birth_date == date(1988, 3, 12)
    assert (facts.province, facts.regency, facts.district) == ("Riau", "Kabupaten Kampar", "Kampar")
    assert facts.district_code == "14.01.02"


def test_valid_female_nik_has_40_added_to_the_day():
    facts = parse_nik("1471025208950003", today=TODAY)
    assert facts.sex == "P"
    assert facts.birth_date == date(1995, 8, 12)
    assert facts.regency == "Kota Pekanbaru" and facts.district == "Pekanbaru Kota"


def test_two_digit_year_is_this_century_only_when_not_in_the_future():
    assert parse_nik("1471010101100001", today=TODAY).birth_date == date(2010, 1, 1)
    assert parse_nik("1471010101300001", today=TODAY).birth_date == date(1930, 1, 1)


def test_spaces_are_ignored():
    assert parse_nik("1471 0252 0895 0003", today=TODAY).nik == "1471025208950003"


def test_age():
    facts = parse_nik("1471025208950003", today=TODAY)
    assert facts.age_on(date(2013, 8, 11)) == 17
    assert facts.age_on(date(2013, 8, 12)) == 18


@pytest.mark.parametrize("nik,code", [
    ("147102520895000", "nik_length"),            # 15 digits
    ("14710252089500031", "nik_length"),          # 17 digits
    ("", "nik_not_digits"),
    ("14710252O8950003", "nik_not_digits"),       # letter O
    ("1471025208950OO3", "nik_not_digits"),
    ("１４７１０２５２０８９５０００３", "nik_not_digits"),  # full-width digits
    ("9999015208950003", "nik_unknown_region"),   # no province 99
    ("1471995208950003", "nik_unknown_region"),   # no district 14.71.99
    ("1400005208950003", "nik_unknown_region"),   # a province, not a district
    ("1471023208950003", "nik_bad_birth_date"),   # day 32
    ("1471027208950003", "nik_bad_birth_date"),   # day 72 (32 for a woman)
    ("1471020013950003", "nik_bad_birth_date"),   # month 13
    ("1471020000950003", "nik_bad_birth_date"),   # day 0 month 0
    ("1471023002950003", "nik_bad_birth_date"),   # 30 February
    ("1471022902950003", "nik_bad_birth_date"),   # 29 February 1995 (not a leap year)
    ("1471024000950003", "nik_bad_birth_date"),   # day 40 → neither sex
    ("1471025208950000", "nik_bad_serial"),
])
def test_invalid_niks_are_refused_with_a_reason(nik, code):
    with pytest.raises(InvalidInput) as exc:
        parse_nik(nik, today=TODAY)
    assert exc.value.code == code
    assert exc.value.message


def test_leap_day_is_valid():
    assert parse_nik("1471022902960003", today=TODAY).birth_date == date(1996, 2, 29)


def test_kk_number():
    assert validate_kk("1471020101150004") == "1471020101150004"
    for bad in ("147102010115000", "9999020101150004", "14710201011500AB"):
        with pytest.raises(InvalidInput):
            validate_kk(bad)


def test_region_codes_are_kemendagri_not_bps():
    assert regions.get("14.71").name == "Kota Pekanbaru"
    assert len([r for r in regions.regencies()]) == 514
    pekanbaru = [c for c in ("14.71.%02d" % i for i in range(1, 16)) if regions.get(c)]
    assert len(pekanbaru) == 15
    assert regions.describe("14.71.02") == "Pekanbaru Kota, Kota Pekanbaru, Riau"


def test_century_is_read_against_the_real_day_not_the_check_date():
    # born 15-12-1926: 15-12-2026 has not come yet on 28-11-2026, so it is 1926
    assert parse_nik("1471021512260001", today=TODAY).birth_date == date(1926, 12, 15)
    assert parse_nik("1471020101260001", today=TODAY).birth_date == date(2026, 1, 1)
