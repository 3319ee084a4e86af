"""Sign-in through the page and the API: failed-attempt limits and officers' audit entries."""

import pytest
from django.test import Client

from conftest import PASSWORD
from satupintu.core import audit, ratelimit
from satupintu.core.models import AuditEntry, RateLimitCounter
from satupintu.identity.models import ApiToken

pytestmark = pytest.mark.django_db

OFFICER_EMAIL = "front_office.dpmptsp@example.test"


@pytest.fixture
def officer(agency, make_officer):
    return make_officer(agency, role="front_office")


@pytest.fixture
def clock(monkeypatch):
    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(ratelimit, "_now", lambda: now["t"])
    return now


def api_login(client, username, password, **extra):
    return client.post("/api/v1/auth/login", {"username": username, "password": password},
                       content_type="application/json", **extra)


def page_login(client, username, password, **extra):
    return client.post("/akun/masuk/", {"username": username, "password": password}, **extra)


def entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


class TestAudit:
    def test_officer_api_login_is_audited(self, client, officer):
        r = api_login(client, OFFICER_EMAIL, PASSWORD)
        assert r.status_code == 200
        [entry] = entries("auth.login")
        assert entry.actor_id == officer.pk and entry.object_id == str(officer.uuid)
        assert entry.changes == {"channel": "api", "ip": "127.0.0.1", "role": "front_office"}

    def test_officer_page_login_is_audited(self, client, officer):
        r = page_login(client, OFFICER_EMAIL, PASSWORD, REMOTE_ADDR="10.9.8.7")
        assert r.status_code == 302
        [entry] = entries("auth.login")
        assert entry.actor_id == officer.pk
        assert entry.changes == {"channel": "web", "ip": "10.9.8.7", "role": "front_office"}

    def test_mall_admin_login_is_audited(self, client, mall_admin):
        assert api_login(client, mall_admin.email, PASSWORD).status_code == 200
        assert [e.actor_id for e in entries("auth.login")] == [mall_admin.pk]

    def test_ip_comes_from_the_trusted_proxy(self, client, officer, settings):
        settings.SATUPINTU_TRUSTED_PROXIES = 1
        api_login(client, OFFICER_EMAIL, PASSWORD, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
        assert entries("auth.login")[0].changes["ip"] == "203.0.113.7"

    @pytest.mark.parametrize("login", [api_login, page_login])
    def test_failed_officer_login_is_audited_without_password(self, client, officer, login):
        r = login(client, OFFICER_EMAIL.upper(), "salah-Sandi-99")
        assert r.status_code in (200, 401)
        [entry] = entries("auth.login_failed")
        assert entry.actor_label == "publik" and entry.object_id == str(officer.uuid)
        assert entry.changes["ip"] == "127.0.0.1" and entry.changes["channel"] in ("web", "api")
        assert "salah-Sandi-99" not in audit.canonical(entry.changes) and not entries("auth.login")

    def test_citizen_logins_are_not_audited(self, client, citizen):
        assert api_login(client, "siti@example.test", "salah").status_code == 401
        assert page_login(client, "siti@example.test", PASSWORD).status_code == 302
        assert not entries("auth.login") and not entries("auth.login_failed")

    def test_unknown_account_is_not_audited(self, client, officer):
        assert api_login(client, "siapa@example.test", "salah").status_code == 401
        assert not entries("auth.login_failed")

    def test_login_entries_seal_into_the_chain(self, client, officer, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            api_login(client, OFFICER_EMAIL, PASSWORD)
        audit.seal()
        assert audit.verify().ok and audit.pending_count() == 0


class TestRateLimit:
    def _fail(self, client, n, username=OFFICER_EMAIL, **extra):
        for _ in range(n):
            assert api_login(client, username, "salah-Sandi-99", **extra).status_code == 401

    def test_api_refuses_after_ten_failures_even_with_the_right_password(self, client, officer, clock):
        self._fail(client, 10)
        tokens, audited = ApiToken.objects.count(), AuditEntry.objects.count()
        r = api_login(client, OFFICER_EMAIL, PASSWORD)
        assert r.status_code == 429
        body = r.json()
        assert body["code"] == "rate_limited" and "Coba lagi dalam" in body["message"]
        assert int(r["Retry-After"]) == body["details"]["retry_after"] == 900
        # nothing else happened: no token, no audit entry, the count did not grow
        assert (ApiToken.objects.count(), AuditEntry.objects.count()) == (tokens, audited)
        assert ratelimit.count(f"login:{OFFICER_EMAIL}:127.0.0.1", window_seconds=900) == 10

    def test_page_refuses_with_429_and_retry_after(self, officer, clock):
        c = Client()
        for _ in range(10):
            assert page_login(c, OFFICER_EMAIL, "salah-Sandi-99").status_code == 200
        clock["t"] += 60
        r = page_login(c, OFFICER_EMAIL, PASSWORD)
        assert r.status_code == 429 and r["Retry-After"] == "840"
        assert "Coba lagi dalam 840 detik" in r.content.decode()
        assert "_auth_user_id" not in c.session

    def test_the_count_is_shared_by_two_clients(self, officer, clock):
        first, second = Client(), Client()
        self._fail(first, 6)
        self._fail(second, 4)
        assert api_login(second, OFFICER_EMAIL, PASSWORD).status_code == 429
        assert api_login(first, OFFICER_EMAIL, PASSWORD).status_code == 429
        # the same account from another address is not blocked
        assert api_login(Client(), OFFICER_EMAIL, PASSWORD, REMOTE_ADDR="10.0.0.9").status_code == 200

    def test_phone_spellings_share_one_count(self, client, citizen, clock):
        for username in ("081234567890", "+62 812-3456-7890") * 5:
            assert api_login(client, username, "salah").status_code == 401
        assert api_login(client, "6281234567890", PASSWORD).status_code == 429

    def test_the_window_expires(self, client, officer, clock):
        self._fail(client, 10)
        assert api_login(client, OFFICER_EMAIL, PASSWORD).status_code == 429
        clock["t"] += 900
        assert api_login(client, OFFICER_EMAIL, PASSWORD).status_code == 200

    def test_success_clears_the_account_count(self, client, officer, clock):
        self._fail(client, 9)
        assert api_login(client, OFFICER_EMAIL, PASSWORD).status_code == 200
        self._fail(client, 9)
        assert api_login(client, OFFICER_EMAIL, PASSWORD).status_code == 200

    def test_one_address_trying_many_accounts_is_limited(self, client, settings, clock):
        settings.SATUPINTU_LOGIN_FAILURES_PER_IP = 5
        for i in range(5):
            self._fail(client, 1, username=f"orang{i}@example.test")
        r = api_login(client, "orang9@example.test", "salah")
        assert r.status_code == 429 and RateLimitCounter.objects.filter(scope="login-ip").get().count == 5
