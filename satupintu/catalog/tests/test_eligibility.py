from datetime import date

import pytest

from conftest import NIK_KAMPAR_M, NIK_PEKANBARU_F
from satupintu.catalog import eligibility
from satupintu.catalog.tests.factories import make_service
from satupintu.core.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def ktp_service(other_agency):
    return make_service(other_agency, name="Penerbitan KTP-el", slug="ktp-el", region_prefixes=["14.71"], min_age=17)


@pytest.fixture
def business_service(agency):
    return make_service(agency, name="Izin Usaha Toko Modern", slug="iutm", applicant_types=["badan_usaha"])


def test_pekanbaru_adult_is_eligible(ktp_service):
    result = eligibility.check(ktp_service.current_version, nik=NIK_PEKANBARU_F, applicant_type="perorangan",
                               on=date(2026, 11, 28))
    assert result.eligible and result.reasons == []


def test_outside_domicile_is_explained(ktp_service):
    result = eligibility.check(ktp_service.current_version, nik=NIK_KAMPAR_M, applicant_type="perorangan")
    assert not result.eligible
    [reason] = result.reasons
    assert reason.code == "domicile"
    assert "Kota Pekanbaru" in reason.message and "Kabupaten Kampar" in reason.message


def test_too_young_is_explained_with_both_ages(ktp_service):
    result = eligibility.check(ktp_service.current_version, nik="1471021505100001", applicant_type="perorangan",
                               on=date(2026, 11, 28))
    assert [r.code for r in result.reasons] == ["min_age"]
    assert "17" in result.reasons[0].message and "16" in result.reasons[0].message


def test_applicant_type_is_explained(business_service):
    result = eligibility.check(business_service.current_version, nik=NIK_KAMPAR_M, applicant_type="perorangan")
    assert [r.code for r in result.reasons] == ["applicant_type"]
    assert "badan usaha" in result.reasons[0].message


def test_several_reasons_at_once(ktp_service):
    result = eligibility.check(ktp_service.current_version, nik="1401021505100001", applicant_type="badan_usaha",
                               on=date(2026, 11, 28))
    assert {r.code for r in result.reasons} == {"applicant_type", "domicile", "min_age"}


def test_invalid_nik_is_an_error_not_a_no(ktp_service):
    with pytest.raises(InvalidInput):
        eligibility.check(ktp_service.current_version, nik="123", applicant_type="perorangan")


class TestApiAndPage:
    def test_api(self, api, ktp_service):
        r = api.post(f"/services/{ktp_service.uuid}/eligibility", {"nik": NIK_KAMPAR_M})
        assert r.status_code == 200
        assert r.json()["eligible"] is False and r.json()["reasons"][0]["code"] == "domicile"
        assert r.json()["applicant"]["regency"] == "Kabupaten Kampar"
        r = api.post(f"/services/{ktp_service.uuid}/eligibility", {"nik": NIK_PEKANBARU_F, "on": "2026-11-28"})
        assert r.json()["eligible"] is True

    @pytest.mark.parametrize("payload,status,code", [
        ({"nik": "1471025208950000"}, 400, "nik_bad_serial"),
        ({"nik": "9999025208950003"}, 400, "nik_unknown_region"),
        ({"nik": NIK_KAMPAR_M, "applicant_type": "lainnya"}, 422, "invalid_input"),
        ({}, 422, "invalid_input"),
    ])
    def test_api_bad_input(self, api, ktp_service, payload, status, code):
        r = api.post(f"/services/{ktp_service.uuid}/eligibility", payload)
        assert r.status_code == status and r.json()["code"] == code and r.json()["message"]

    def test_page_form_with_htmx_and_without(self, client, ktp_service):
        url = f"/layanan/disdukcapil/ktp-el/kelayakan/"
        r = client.post(url, {"nik": NIK_KAMPAR_M, "applicant_type": "perorangan"}, HTTP_HX_REQUEST="true")
        assert r.status_code == 200 and "Belum memenuhi syarat" in r.content.decode()
        assert "<html" not in r.content.decode()
        r = client.post(url, {"nik": NIK_PEKANBARU_F, "applicant_type": "perorangan"})
        assert r.status_code == 200 and "Ya, Anda memenuhi syarat" in r.content.decode() and "<html" in r.content.decode()
        r = client.post(url, {"nik": "12AB", "applicant_type": "perorangan"})
        assert r.status_code == 400 and "angka" in r.content.decode()
