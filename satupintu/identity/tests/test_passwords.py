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


def queued_resets():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path="satupintu.identity.tasks.send_password_reset").order_by("enqueued_at")


def send_queued() -> int:
    """Run the queued reset e-mails as the worker would."""
    from satupintu.identity.tasks import send_password_reset

    sent = sum(send_password_reset.call(*q.args_kwargs["args"], **q.args_kwargs["kwargs"]) for q in queued_resets())
    queued_resets().delete()
    return sent


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
    assert not ApiToken.objects.filter(key_hash=services.hash_key(keep)).exists()


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


def test_a_browser_session_that_changes_the_password_over_the_api_stays(client, citizen):
    client.force_login(citizen)
    r = client.post("/api/v1/auth/password", {"current_password": PASSWORD, "new_password": NEW},
                    content_type="application/json")
    assert r.status_code == 204 and client.get("/akun/profil/").status_code == 200


def test_forgotten_password_by_email_link(client, citizen, settings):
    settings.SATUPINTU_PUBLIC_URL = "https://mpp.pekanbaru.example"
    r = client.post("/akun/lupa-sandi/", {"email": "SITI@example.test"})
    assert r.status_code == 302 and r["Location"] == "/akun/lupa-sandi/terkirim/"
    assert mail.outbox == [] and send_queued() == 1  # sent by the worker, not by the request
    [message] = mail.outbox
    assert message.to == ["siti@example.test"] and "kata sandi baru" in message.subject.lower()
    assert link_in(message).startswith("https://mpp.pekanbaru.example/akun/sandi-baru/")  # not the request's host (testserver)
    page = client.get(link_in(message).split(".example", 1)[1], follow=True)  # Django swaps the token for a session key
    assert page.status_code == 200 and "new_password1" in page.content.decode()
    url = page.redirect_chain[-1][0]
    r = client.post(url, {"new_password1": NEW, "new_password2": NEW})
    assert r.status_code == 302
    assert services.user_sign_in(identifier=citizen.email, password=NEW, channel="web", ip="127.0.0.1").pk == citizen.pk
    assert AuditEntry.objects.filter(action="auth.password_reset", actor_id=citizen.pk).count() == 1
    again = client.get(link_in(message).split(".example", 1)[1], follow=True)  # used once: no more
    assert "tidak berlaku lagi" in again.content.decode()


def path_of(message) -> str:
    from urllib.parse import urlsplit

    return urlsplit(link_in(message)).path


def test_an_account_opened_at_the_counter_sets_its_first_password_with_its_nik(client, agency, make_officer):
    fo = make_officer(agency, role="front_office")
    walk_in = services.citizen_register_assisted(actor=fo, full_name="Budi Santoso", nik="1401021203880002",
                                                 email="budi@example.test")
    assert not walk_in.has_usable_password()
    client.post("/akun/lupa-sandi/", {"email": "budi@example.test"})
    send_queued()
    [message] = mail.outbox
    url = client.get(path_of(message), follow=True).redirect_chain[-1][0]
    # a stranger who got the link by a typo of the address at the counter does not know the NIK
    r = client.post(url, {"new_password1": NEW, "new_password2": NEW, "nik": "1401021203880003"})
    assert r.status_code == 200 and "NIK tidak cocok" in r.content.decode()
    assert not User.objects.get(pk=walk_in.pk).has_usable_password()
    client.post(url, {"new_password1": NEW, "new_password2": NEW, "nik": "1401 0212 0388 0002"})
    assert services.user_sign_in(identifier="budi@example.test", password=NEW, channel="web", ip="127.0.0.1").pk == walk_in.pk


def test_wrong_niks_are_limited(client, agency, make_officer):
    fo = make_officer(agency, role="front_office")
    services.citizen_register_assisted(actor=fo, full_name="Budi Santoso", nik="1401021203880002", email="budi@example.test")
    client.post("/akun/lupa-sandi/", {"email": "budi@example.test"})
    send_queued()
    url = client.get(path_of(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    for i in range(5):
        assert client.post(url, {"new_password1": NEW, "new_password2": NEW, "nik": f"140102120388001{i}"}).status_code == 200
    assert client.post(url, {"new_password1": NEW, "new_password2": NEW, "nik": "1401021203880002"}).status_code == 429


def test_a_link_sent_before_the_account_was_deactivated_no_longer_works(client, agency, make_officer, mall_admin):
    officer = make_officer(agency, role="verifier")
    client.post("/akun/lupa-sandi/", {"email": officer.email})
    send_queued()
    services.officer_update(actor=mall_admin, officer=officer, is_active=False)
    page = client.get(path_of(mail.outbox[0]), follow=True)
    assert "tidak berlaku lagi" in page.content.decode()
    before = User.objects.get(pk=officer.pk).password
    r = client.post(path_of(mail.outbox[0]), {"new_password1": NEW, "new_password2": NEW})
    assert User.objects.get(pk=officer.pk).password == before and r.status_code == 200


def test_unknown_and_inactive_addresses_get_the_same_answer_and_no_mail(api, client, agency, make_officer, mall_admin):
    officer = make_officer(agency, role="verifier")
    services.officer_update(actor=mall_admin, officer=officer, is_active=False)
    answers = []
    for email in ("tidak-ada@example.test", officer.email, mall_admin.email):
        r = api.post("/auth/password-reset", {"email": email})
        answers.append((r.status_code, r.json()))
    assert answers[0] == answers[1] == answers[2] and answers[0][0] == 202  # known or not: the same answer
    assert queued_resets().count() == 3  # and the same work in the request: one queued task each
    assert not AuditEntry.objects.filter(action="auth.password_reset_sent").exists()  # nothing told yet
    assert send_queued() == 1 and [m.to for m in mail.outbox] == [[mall_admin.email]]
    [sent] = AuditEntry.objects.filter(action="auth.password_reset_sent")  # the one e-mail sent, on its account
    assert (sent.actor_id, sent.actor_label, sent.object_id) == (None, "publik", str(mall_admin.uuid))
    assert sent.changes == {"ip": "127.0.0.1"}
    r = api.post("/auth/password-reset", {"email": "bukan email"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_email"


def test_a_reset_e_mail_that_fails_to_send_fails_the_task_and_is_not_audited(citizen, monkeypatch):
    from django.core.mail import EmailMultiAlternatives

    services.password_reset_request(email=citizen.email, ip="203.0.113.9")

    def refuse(self, fail_silently=False):
        raise OSError("mail server down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    with pytest.raises(OSError):
        send_queued()
    assert mail.outbox == [] and not AuditEntry.objects.filter(action="auth.password_reset_sent").exists()
    queued_resets().delete()  # the failed task, as the worker leaves it (failed, not queued)
    monkeypatch.undo()
    services.password_reset_request(email=citizen.email, ip="203.0.113.9")
    assert send_queued() == 1
    [sent] = AuditEntry.objects.filter(action="auth.password_reset_sent")
    assert sent.object_id == str(citizen.uuid) and sent.changes == {"ip": "203.0.113.9"}


def test_a_reset_task_queued_without_the_address_still_sends(citizen):
    from satupintu.identity.tasks import send_password_reset

    assert send_password_reset.call(citizen.email, "id") == 1  # as queued before the address was passed
    assert AuditEntry.objects.get(action="auth.password_reset_sent").changes == {}


def test_reset_requests_are_limited_per_address_and_per_email(citizen):
    for _i in range(3):
        services.password_reset_request(email=citizen.email, ip="10.0.0.1")
    with pytest.raises(RateLimited):  # a fourth for the same e-mail, from anywhere
        services.password_reset_request(email=citizen.email, ip="10.0.0.2")
    for i in range(10):
        services.password_reset_request(email=f"orang{i}@example.test", ip="10.0.0.3")
    with pytest.raises(RateLimited):  # the 11th from one address
        services.password_reset_request(email="lain@example.test", ip="10.0.0.3")
    assert send_queued() == 3 and len(mail.outbox) == 3
    with pytest.raises(InvalidInput):
        services.password_reset_request(email="", ip="10.0.0.4")


def test_a_weak_password_from_a_reset_is_a_clear_refusal_not_a_500(citizen):
    before = User.objects.get(pk=citizen.pk).password
    with pytest.raises(InvalidInput) as exc:
        services.password_reset_complete(user=citizen, new_password="12345678")
    assert exc.value.code == "invalid_password" and "new_password" in exc.value.details
    assert User.objects.get(pk=citizen.pk).password == before
