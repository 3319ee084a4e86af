import pytest
from django.contrib.auth import authenticate

from conftest import NIK_KAMPAR_M, NIK_PEKANBARU_F, PASSWORD
from satupintu.core.errors import Conflict, InvalidInput
from satupintu.core.models import AuditEntry
from satupintu.identity.models import CitizenProfile, User
from satupintu.identity.services import citizen_register

pytestmark = pytest.mark.django_db

VALID = {"full_name": "Budi Santoso", "password": PASSWORD, "nik": NIK_KAMPAR_M, "email": "budi@example.test"}


def test_register_stores_account_profile_and_audit():
    user = citizen_register(actor=None, **VALID, phone="0812-7777-8888")
    assert user.phone == "+6281277778888"
    assert user.citizen.nik == NIK_KAMPAR_M
    assert user.citizen.facts.sex == "L"
    assert AuditEntry.objects.filter(action="citizen.registered", object_id=str(user.uuid)).exists()


def test_sign_in_with_email_or_phone():
    citizen_register(actor=None, **VALID, phone="081277778888")
    assert authenticate(username="BUDI@example.test", password=PASSWORD) is not None
    assert authenticate(username="+62 812-7777-8888", password=PASSWORD) is not None
    assert authenticate(username="081277778888", password="salah-sandi") is None


@pytest.mark.parametrize("changes,field", [
    ({"nik": "1471025208950000"}, "nik"),
    ({"nik": "9999025208950003"}, "nik"),
    ({"email": "bukan-email"}, "email"),
    ({"email": "", "phone": ""}, "email"),
    ({"phone": "12345"}, "phone"),
    ({"password": "123"}, "password"),
    ({"full_name": ""}, "full_name"),
    ({"kk_number": "12"}, "kk_number"),
])
def test_bad_registration_stores_nothing(changes, field):
    with pytest.raises(InvalidInput) as exc:
        citizen_register(actor=None, **{**VALID, **changes})
    assert field in exc.value.details
    assert User.objects.count() == 0 and AuditEntry.objects.count() == 0


@pytest.mark.parametrize("changes,field", [
    ({"email": "SITI@example.test", "nik": NIK_KAMPAR_M}, "email"),
    ({"email": "lain@example.test", "phone": "+6281234567890", "nik": NIK_KAMPAR_M}, "phone"),
    ({"email": "lain@example.test"}, "nik"),
])
def test_duplicate_account_is_refused(citizen, changes, field):
    before = (User.objects.count(), AuditEntry.objects.count())
    with pytest.raises(Conflict) as exc:
        citizen_register(actor=None, **{**VALID, "nik": NIK_PEKANBARU_F, **changes})
    assert exc.value.code == "duplicate_account" and field in exc.value.details
    assert (User.objects.count(), AuditEntry.objects.count()) == before


class TestApi:
    def test_register_login_me_logout(self, api):
        r = api.post("/auth/register", {**VALID, "kk_number": "1401020101150004"})
        assert r.status_code == 201, r.content
        assert r.json()["citizen"]["facts"]["regency"] == "Kabupaten Kampar"
        assert r.json()["citizen"]["nik_masked"] == "140102••••••0002"

        r = api.post("/auth/login", {"username": "budi@example.test", "password": PASSWORD})
        assert r.status_code == 200
        token = r.json()["token"]
        me = api.get("/auth/me", token=token)
        assert me.status_code == 200 and me.json()["full_name"] == "Budi Santoso"
        assert api.post("/auth/logout", token=token).status_code == 204
        assert api.get("/auth/me", token=token).status_code == 401

    def test_bad_login(self, api, citizen):
        r = api.post("/auth/login", {"username": "siti@example.test", "password": "salah"})
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"

    def test_me_requires_auth(self, api):
        r = api.get("/auth/me")
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
        assert api.get("/auth/me", token="sp_not-a-real-token").status_code == 401

    @pytest.mark.parametrize("payload,status,code", [
        ({**VALID, "nik": "12345"}, 400, "invalid_registration"),
        ({**VALID, "nik": "ABCDEFGHIJKLMNOP"}, 400, "invalid_registration"),
        ({"full_name": "X"}, 422, "invalid_input"),
    ])
    def test_bad_registration(self, api, payload, status, code):
        r = api.post("/auth/register", payload)
        assert r.status_code == status
        assert r.json()["code"] == code and r.json()["message"]
        assert User.objects.count() == 0

    def test_duplicate_registration(self, api, citizen):
        r = api.post("/auth/register", {**VALID, "nik": NIK_PEKANBARU_F})
        assert r.status_code == 409 and r.json()["code"] == "duplicate_account"
        assert "nik" in r.json()["details"]

    def test_session_post_without_csrf_is_refused(self, client, citizen):
        from django.test import Client

        c = Client(enforce_csrf_checks=True)
        c.force_login(citizen)
        r = c.post("/api/v1/auth/logout", content_type="application/json")
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed"


class TestPages:
    def test_register_page_creates_account_and_signs_in(self, client):
        r = client.post("/akun/daftar/", {**VALID, "phone": ""}, follow=True)
        assert r.status_code == 200
        assert r.redirect_chain[-1][0] == "/akun/profil/"
        assert "Kabupaten Kampar" in r.content.decode()

    def test_register_page_shows_nik_error_and_stores_nothing(self, client):
        r = client.post("/akun/daftar/", {**VALID, "nik": "1471025208950000"})
        assert r.status_code == 400
        assert "0000" in r.content.decode()
        assert User.objects.count() == 0

    def test_login_page(self, client, citizen):
        r = client.post("/akun/masuk/", {"username": "081234567890", "password": PASSWORD})
        assert r.status_code == 302 and r["Location"] == "/akun/profil/"

    def test_profile_requires_login(self, client):
        r = client.get("/akun/profil/")
        assert r.status_code == 302 and "/akun/masuk/" in r["Location"]

    def test_profile_update(self, client, citizen):
        client.force_login(citizen)
        r = client.post("/akun/profil/", {"full_name": "Siti R.", "kk_number": "1471020101150004"})
        assert r.status_code == 302
        citizen.refresh_from_db()
        assert citizen.full_name == "Siti R." and citizen.citizen.kk_number == "1471020101150004"
        r = client.post("/akun/profil/", {"full_name": "Siti R.", "kk_number": "99"})
        assert r.status_code == 400


def test_over_long_email_or_name_is_a_clear_400(db, make_officer, agency, mall_admin):
    """Checked once for every way an account is made, before the database's column limits."""
    from satupintu.core.errors import InvalidInput
    from satupintu.identity.services import citizen_register_assisted, officer_create

    long_email = "a" * 250 + "@example.test"
    officer = make_officer(agency, role="front_office")
    with pytest.raises(InvalidInput) as exc:
        citizen_register_assisted(actor=officer, full_name="Budi", nik="1401021203880002", email=long_email)
    assert "email" in exc.value.details
    with pytest.raises(InvalidInput) as exc:
        officer_create(actor=mall_admin, email="ok@example.test", full_name="N" * 200, role="verifier",
                       password="Sandi-Rahasia-2026", agency=agency)
    assert "full_name" in exc.value.details


def test_audit_label_fits_a_long_email(db):
    from satupintu.core import audit
    from satupintu.identity.models import User

    user = User(pk=7, email="b" * 240 + "@example.test")
    assert len(audit.actor_label(user)) == 200
