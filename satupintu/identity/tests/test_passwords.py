"""Passwords: the signed-in person changes theirs (other sessions and API tokens end); a
forgotten one is replaced through an e-mailed link, which is also how a citizen whose account
an officer opened at the counter sets their first one."""

import re

import pytest
from django.core import mail

from conftest import PASSWORD
from satupintu.core.errors import InvalidInput, NotAuthenticated, RateLimited
from satupintu.core.models import AuditEntry
from satupintu.identity import services
from satupintu.identity.models import ApiToken, User

pytestmark = pytest.mark.django_db

NEW = "Sandi-Baru-Sekali-2026"


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_change_keeps_this_session_ends_the_others_and_deletes_other_tokens(client, citizen):
    from django.test import Client

    other = Client()
    other.force_login(citizen)
    client.force_login(citizen)
    keep = services.api_token_issue(actor=citizen)[1]
    services.api_token_issue(actor=citizen)
    r = client.post("/akun/sandi/", {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW})
    assert r.status_code == 302
    assert client.get("/akun/profil/").status_code == 200  # this session stays
    assert other.get("/akun/profil/").status_code == 302  # the other one ended
    assert ApiToken.objects.filter(user=citizen).count() == 0  # the page keeps no token
    assert services.user_sign_in(identifier=citizen.email, password=NEW, channel="web", ip="127.0.0.1").pk == citizen.pk
    assert AuditEntry.objects.filter(action="auth.password_changed").get().changes == {"tokens_deleted": 2}
    assert keep  # (issued before the change: deleted with the others)


def test_the_api_keeps_the_token_it_was_called_with(api, citizen):
    keep, other = api.token(citizen), api.token(citizen)
    r = api.post("/auth/password", {"current_password": PASSWORD, "new_password": NEW}, token=keep)
    assert r.status_code == 204
    assert api.get("/auth/me", token=keep).status_code == 200
    assert api.get("/auth/me", token=other).status_code == 401


def test_refusals_change_nothing_and_wrong_current_passwords_are_limited(api, client, citizen):
    assert api.post("/auth/password", {"current_password": PASSWORD, "new_password": NEW}).status_code == 401
    token = api.token(citizen)
    before = (User.objects.get(pk=citizen.pk).password, AuditEntry.objects.count())
    r = api.post("/auth/password", {"current_password": PASSWORD, "new_password": "12345678"}, token=token)
    assert r.status_code == 400 and "new_password" in r.json()["details"]
    client.force_login(citizen)
    r = client.post("/akun/sandi/", {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW + "x"})
    assert r.status_code == 400 and "tidak sama" in r.content.decode()
    for _i in range(5):
        r = api.post("/auth/password", {"current_password": "salah-salah", "new_password": NEW}, token=token)
        assert r.status_code == 400 and "current_password" in r.json()["details"]
    r = api.post("/auth/password", {"current_password": PASSWORD, "new_password": NEW}, token=token)
    assert r.status_code == 429  # even the right one, for a while
    assert (User.objects.get(pk=citizen.pk).password, AuditEntry.objects.count()) == before
    with pytest.raises(NotAuthenticated):
        services.password_change(actor=None, current_password=PASSWORD, new_password=NEW)


def test_forgotten_password_by_email_link(client, citizen):
    r = client.post("/akun/lupa-sandi/", {"email": "SITI@example.test"})
    assert r.status_code == 302 and r["Location"] == "/akun/lupa-sandi/terkirim/"
    [message] = mail.outbox
    assert message.to == ["siti@example.test"] and "kata sandi baru" in message.subject.lower()
    page = client.get(link_in(message), follow=True)  # Django swaps the token for a session key
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    url = page.redirect_chain[-1][0]
    r = client.post(url, {"new_password1": NEW, "new_password2": NEW})
    assert r.status_code == 302
    assert services.user_sign_in(identifier=citizen.email, password=NEW, channel="web", ip="127.0.0.1").pk == citizen.pk
    assert AuditEntry.objects.filter(action="auth.password_reset", actor_id=citizen.pk).count() == 1
    again = client.get(link_in(message), follow=True)  # used once: no more
    assert "tidak berlaku lagi" in again.content.decode()


def test_an_account_opened_at_the_counter_sets_its_first_password_by_the_link(client, agency, make_officer):
    fo = make_officer(agency, role="front_office")
    walk_in = services.citizen_register_assisted(actor=fo, full_name="Budi Santoso", nik="1401021203880002",
                                                 email="budi@example.test")
    assert not walk_in.has_usable_password()
    client.post("/akun/lupa-sandi/", {"email": "budi@example.test"})
    [message] = mail.outbox
    url = client.get(link_in(message), follow=True).redirect_chain[-1][0]
    client.post(url, {"new_password1": NEW, "new_password2": NEW})
    assert services.user_sign_in(identifier="budi@example.test", password=NEW, channel="web", ip="127.0.0.1").pk == walk_in.pk


def test_unknown_and_inactive_addresses_get_the_same_answer_and_no_mail(api, client, agency, make_officer, mall_admin):
    officer = make_officer(agency, role="verifier")
    services.officer_update(actor=mall_admin, officer=officer, is_active=False)
    for email in ("tidak-ada@example.test", officer.email):
        r = api.post("/auth/password-reset", {"email": email})
        assert r.status_code == 202 and r.json()["detail"]
    assert mail.outbox == []
    r = api.post("/auth/password-reset", {"email": "bukan email"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_email"


def test_reset_requests_are_limited_per_address_and_per_email(citizen, settings):
    for _i in range(3):
        services.password_reset_request(email=citizen.email, ip="10.0.0.1", domain="testserver", use_https=False)
    with pytest.raises(RateLimited):
        services.password_reset_request(email=citizen.email, ip="10.0.0.2", domain="testserver", use_https=False)
    for i in range(7):
        services.password_reset_request(email=f"orang{i}@example.test", ip="10.0.0.3", domain="testserver", use_https=False)
    with pytest.raises(RateLimited):  # the 11th from one address (3 + 7 counted from two addresses: 7 + this)
        for i in range(4):
            services.password_reset_request(email=f"lain{i}@example.test", ip="10.0.0.3", domain="testserver",
                                            use_https=False)
    assert len(mail.outbox) == 3
    with pytest.raises(InvalidInput):
        services.password_reset_request(email="", ip="10.0.0.4", domain="testserver", use_https=False)
