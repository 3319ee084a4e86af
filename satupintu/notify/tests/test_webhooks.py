import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from satupintu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from satupintu.core.models import AuditEntry
from satupintu.notify import services
from satupintu.notify.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from satupintu.notify.signing import sign, verify_signature

pytestmark = pytest.mark.django_db

PAYLOAD = {"tracking_number": "PK7Q2M9", "status": "approved", "application": "0b7c…"}


@pytest.fixture
def receiver():
    """An agency system on 127.0.0.1 that records each request and answers `status`."""
    state = {"status": 200, "requests": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state["requests"].append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(state["status"])
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/hooks/satupintu"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin(agency, make_officer):
    return make_officer(agency, role="agency_admin")


def deliveries_queued():
    return DBTaskResult.objects.filter(task_path="satupintu.notify.tasks.deliver_webhook")


def due_now(delivery) -> None:
    """The time of its next try has come (as the worker runs the retry task at its `run_after`)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def emit(agency, event="application.approved", payload=PAYLOAD):
    return services.webhook_emit(agency_ids=[agency.pk], event=event, payload=payload)


def test_delivery_succeeds_and_signature_verifies(admin, agency, receiver, django_capture_on_commit_callbacks):
    endpoint, secret = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    assert secret.startswith("whsec_") and AuditEntry.objects.filter(action="webhook.create").count() == 1
    assert secret not in json.dumps(AuditEntry.objects.get(action="webhook.create").changes)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            assert emit(agency) == 1
            assert deliveries_queued().count() == 0
    [queued] = deliveries_queued()
    delivery = WebhookDelivery.objects.get()
    assert queued.args_kwargs["args"] == [str(delivery.uuid)]

    from satupintu.notify.tasks import deliver_webhook

    assert deliver_webhook.call(str(delivery.uuid)) == DeliveryStatus.DELIVERED
    [req] = receiver["requests"]
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert req["path"] == "/hooks/satupintu" and headers["content-type"] == "application/json"
    assert headers["x-satupintu-event"] == "application.approved" and headers["x-satupintu-delivery"] == str(delivery.uuid)
    assert verify_signature(secret, headers["x-satupintu-signature"], req["body"])
    assert not verify_signature("whsec_wrong", headers["x-satupintu-signature"], req["body"])
    assert not verify_signature(secret, headers["x-satupintu-signature"], req["body"].replace(b"approved", b"rejected"))
    doc = json.loads(req["body"])
    assert doc == {"id": str(delivery.uuid), "event": "application.approved", "created_at": doc["created_at"], "data": PAYLOAD}
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status_code == 200
    # a duplicate task does not deliver twice
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "delivered"
    assert len(receiver["requests"]) == 1


def test_error_answer_retries_with_backoff_then_fails(admin, agency, receiver, settings):
    settings.SATUPINTU_WEBHOOK_MAX_ATTEMPTS = 3
    receiver["status"] = 500
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    emit(agency)
    delivery = WebhookDelivery.objects.get()
    before = timezone.now()
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.status == "pending" and delivery.last_status_code == 500
    assert delivery.next_attempt_at >= before + timedelta(seconds=29)
    assert deliveries_queued().get().run_after == delivery.next_attempt_at
    # a second run of the task now (a duplicate, a requeue beside a late task) leaves it to the retry
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "pending"
    assert len(receiver["requests"]) == 1 and deliveries_queued().count() == 1
    due_now(delivery)  # the retry's time comes
    services.webhook_delivery_attempt(delivery_id=str(delivery.uuid))
    delivery.refresh_from_db()
    assert delivery.next_attempt_at >= before + timedelta(seconds=59)  # doubled
    due_now(delivery)
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 3 and delivery.next_attempt_at is None
    assert len(receiver["requests"]) == 3 and deliveries_queued().count() == 2


def test_unreachable_endpoint_is_retried(admin, agency, receiver):
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url="http://127.0.0.1:9/closed")
    emit(agency)
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "pending"
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and delivery.last_error


def test_only_subscribed_active_endpoints_of_those_agencies(admin, agency, other_agency, make_officer, receiver):
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"], events=["application.rejected"])
    all_events, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"] + "/all")
    off, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"] + "/off")
    WebhookEndpoint.objects.filter(pk=off.pk).update(is_active=False)
    services.webhook_endpoint_create(actor=make_officer(other_agency), agency=other_agency, url=receiver["url"] + "/other")
    assert emit(agency, "application.approved") == 1
    assert WebhookDelivery.objects.get().endpoint == all_events
    assert emit(agency, "application.rejected") == 2
    assert services.webhook_emit(agency_ids=[], event="application.approved", payload={}) == 0


def test_enqueue_failure_does_not_roll_back_the_caller(admin, agency, receiver, monkeypatch, django_capture_on_commit_callbacks):
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])

    def boom(self, task, args, kwargs):
        raise ConnectionError("queue down")

    monkeypatch.setattr(DatabaseBackend, "enqueue", boom)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            emit(agency)
            AuditEntry.objects.count()  # the caller's own work goes on
    assert WebhookDelivery.objects.filter(status="pending").count() == 1


def test_rolled_back_decision_emits_nothing(admin, agency, receiver, django_capture_on_commit_callbacks):
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            emit(agency)
            raise RuntimeError
    assert WebhookDelivery.objects.count() == 0 and deliveries_queued().count() == 0


@pytest.mark.parametrize("url", [
    "", "ftp://files.example.go.id/x", "http://", "javascript:alert(1)", "https://user:pw@sistem.example/",
    "http://sistem.example:99999/", "https://sistem.example/" + "a" * 500, "https://sis tem.example/", "/relative",
    "https://a..b.example/hook", "https://" + "a" * 64 + ".example/",  # names no resolver takes
])
def test_bad_urls_are_refused(admin, agency, url):
    with pytest.raises(InvalidInput) as exc:
        services.webhook_endpoint_create(actor=admin, agency=agency, url=url)
    assert exc.value.message and WebhookEndpoint.objects.count() == 0


def test_bad_events_and_private_hosts_in_production(admin, agency, settings):
    with pytest.raises(InvalidInput) as exc:
        services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/", events=["nope"])
    assert exc.value.code == "unknown_event"
    with pytest.raises(InvalidInput):
        services.webhook_emit(agency_ids=[agency.pk], event="nope", payload={})
    with pytest.raises(InvalidInput):
        services.webhook_emit(agency_ids=[agency.pk], event="application.approved", payload={"x": object()})
    settings.SATUPINTU_WEBHOOK_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:8080/", "http://localhost/", "http://10.1.2.3/", "http://[::1]/", "http://169.254.169.254/"):
        with pytest.raises(InvalidInput) as exc:
            services.webhook_endpoint_create(actor=admin, agency=agency, url=url)
        assert exc.value.code == "private_url"
    assert WebhookEndpoint.objects.count() == 0


def test_private_destination_refused_at_delivery_when_disallowed(admin, agency, receiver, settings):
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    emit(agency)
    settings.SATUPINTU_WEBHOOK_ALLOW_PRIVATE = False
    assert services.webhook_delivery_attempt(delivery_id=str(WebhookDelivery.objects.get().uuid)) == "failed"
    assert receiver["requests"] == []


def test_who_may_manage(agency, other_agency, make_officer, mall_admin, citizen):
    fo = make_officer(agency, role="front_office")
    foreign_admin = make_officer(other_agency, role="agency_admin")
    for actor in (fo, foreign_admin, citizen):
        with pytest.raises(Forbidden):
            services.webhook_endpoint_create(actor=actor, agency=agency, url="https://sistem.example/")
    endpoint, _ = services.webhook_endpoint_create(actor=mall_admin, agency=agency, url="https://sistem.example/")
    with pytest.raises(Forbidden):
        services.webhook_endpoint_delete(actor=foreign_admin, endpoint=endpoint)
    with pytest.raises(Forbidden):
        services.webhook_endpoint_rotate_secret(actor=fo, endpoint=endpoint)
    old = endpoint.secret
    admin = make_officer(agency, role="agency_admin")
    assert services.webhook_endpoint_rotate_secret(actor=admin, endpoint=endpoint) != old
    services.webhook_endpoint_delete(actor=admin, endpoint=endpoint)
    assert WebhookEndpoint.objects.count() == 0
    assert AuditEntry.objects.filter(action__startswith="webhook.").count() == 3


def test_endpoint_limit(admin, agency, settings):
    settings.SATUPINTU_WEBHOOK_MAX_PER_AGENCY = 3
    for i in range(3):
        services.webhook_endpoint_create(actor=admin, agency=agency, url=f"https://sistem.example/{i}")
    with pytest.raises(Conflict):
        services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/more")


def test_signature_helper():
    body = b'{"id":"1"}'
    header = sign("s3cret", body)
    assert verify_signature("s3cret", header, body) and verify_signature("s3cret", header, body.decode())
    old = sign("s3cret", body, timestamp=int(time.time()) - 301)
    assert not verify_signature("s3cret", old, body)
    assert verify_signature("s3cret", old, body, tolerance=400)
    rotated = header + ",v1=" + "0" * 64
    assert verify_signature("s3cret", rotated, body)
    for bad in ("", "garbage", "t=abc,v1=00", "v1=" + "0" * 64, f"t={int(time.time())}"):
        assert not verify_signature("s3cret", bad, body)


def test_a_name_that_rebinds_to_loopback_is_not_followed(admin, agency, receiver, settings, monkeypatch):
    """DNS rebinding: the name answers with a public address when checked and with the loopback
    receiver's address afterwards. The delivery resolves once and connects only to what it
    checked, so the receiver on 127.0.0.1 never gets the request."""
    import socket

    port = int(receiver["url"].split(":")[2].split("/")[0])
    services.webhook_endpoint_create(actor=admin, agency=agency, url=f"http://sistem.example:{port}/hooks")
    emit(agency)
    settings.SATUPINTU_WEBHOOK_ALLOW_PRIVATE = False
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    real_create_connection, tried = socket.create_connection, []

    def resolve(host, port_, *args, **kwargs):
        assert host == "sistem.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port_))]

    def create_connection(address, *args, **kwargs):
        tried.append(address)
        if address[0] == "93.184.216.34":
            raise OSError("no network here")  # the bench machine talks to 127.0.0.1 only
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "pending"  # retried later
    assert tried == [("93.184.216.34", port)] and receiver["requests"] == []
    delivery.refresh_from_db()
    assert "no network here" in delivery.last_error and delivery.attempts == 1


def test_a_redirect_is_an_answer_not_a_delivery(admin, agency, receiver):
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    emit(agency)
    receiver["status"] = 302
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "pending"
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302 and delivery.last_error == "HTTP 302" and len(receiver["requests"]) == 1


@pytest.mark.parametrize("failure", [OSError, UnicodeError])
def test_a_name_that_does_not_resolve_is_retried(failure, admin, agency, settings, monkeypatch):
    import socket

    services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/hooks")
    emit(agency)

    def no_answer(*args, **kwargs):  # gaierror, or the encoding error of a name stored before it was refused
        raise (socket.gaierror(-2, "Name or service not known") if failure is OSError
               else UnicodeError("encoding with 'idna' codec failed: Name or service not known"))

    monkeypatch.setattr(socket, "getaddrinfo", no_answer)
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "pending"
    delivery.refresh_from_db()
    assert "Name or service not known" in delivery.last_error and delivery.last_status_code is None


@pytest.fixture
def tls_receiver(tmp_path):
    """An agency system on 127.0.0.1 speaking HTTPS with a certificate for sistem.example."""
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=sistem.example", "-addext", "subjectAltName=DNS:sistem.example", "-days", "1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    state = {"requests": [], "cafile": str(tmp_path / "cert.pem")}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            state["requests"].append(dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["port"] = server.server_address[1]
    yield state
    server.shutdown()
    server.server_close()


def test_https_checks_the_certificate_of_the_name_on_the_pinned_address(admin, agency, tls_receiver, monkeypatch):
    import socket

    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: real("127.0.0.1", port, *a, **k))
    services.webhook_endpoint_create(actor=admin, agency=agency, url=f"https://sistem.example:{tls_receiver['port']}/h")
    emit(agency)
    delivery = WebhookDelivery.objects.get()
    # a certificate the machine does not trust: refused, retried later
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "pending"
    delivery.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error and tls_receiver["requests"] == []
    # trusted: delivered, with the name (not the address) as Host and for the certificate check
    monkeypatch.setenv("SSL_CERT_FILE", tls_receiver["cafile"])
    due_now(delivery)
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "delivered"
    assert tls_receiver["requests"][0]["Host"] == f"sistem.example:{tls_receiver['port']}"


def test_old_finished_deliveries_are_pruned(admin, agency, mall_admin):
    """Delivered and failed deliveries older than the kept days go; pending ones and younger
    ones stay. One audit entry per run that deleted something."""
    from io import StringIO

    from django.core.management import call_command

    from satupintu.notify.tasks import prune_webhook_deliveries

    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/")
    now = timezone.now()

    def delivery(status, days_old):
        return WebhookDelivery.objects.create(endpoint=endpoint, event="application.approved", payload=PAYLOAD,
                                              status=status, created_at=now - timedelta(days=days_old))

    old = [delivery(DeliveryStatus.DELIVERED, 31), delivery(DeliveryStatus.FAILED, 45)]
    kept = [delivery(DeliveryStatus.PENDING, 60), delivery(DeliveryStatus.DELIVERED, 29), delivery(DeliveryStatus.FAILED, 1)]
    assert services.webhook_deliveries_prune(actor=mall_admin, older_than=timedelta(days=30)) == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {d.pk for d in kept}
    entry = AuditEntry.objects.get(action="webhook.deliveries_pruned")
    assert entry.changes == {"count": 2, "older_than_days": 30}
    assert services.webhook_deliveries_prune(actor=mall_admin, older_than=timedelta(days=30)) == 0
    assert AuditEntry.objects.filter(action="webhook.deliveries_pruned").count() == 1  # nothing deleted, nothing logged

    assert prune_webhook_deliveries.call(days=2) == 1  # the task, as run_schedule queues it: 29 days old
    out = StringIO()
    call_command("webhook_prune", "--days", "0", stdout=out)  # the command: the failed one of yesterday
    assert out.getvalue().startswith("1 pengiriman webhook")
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [DeliveryStatus.PENDING]
    assert not WebhookDelivery.objects.filter(pk__in=[d.pk for d in old]).exists()


def test_pruning_is_for_the_system_and_mall_admin_with_a_sane_age(admin, agency, make_officer):
    from django.core.management import CommandError, call_command

    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/")
    WebhookDelivery.objects.create(endpoint=endpoint, event="application.approved", payload=PAYLOAD,
                                   status=DeliveryStatus.DELIVERED, created_at=timezone.now() - timedelta(days=90))
    for actor in (admin, make_officer(agency, role="head")):
        with pytest.raises(Forbidden):
            services.webhook_deliveries_prune(actor=actor, older_than=timedelta(days=30))
    from satupintu.core.permissions import SystemActor

    with pytest.raises(InvalidInput) as exc:
        services.webhook_deliveries_prune(actor=SystemActor("tests"), older_than=timedelta(days=-1))
    assert exc.value.code == "invalid_age"
    with pytest.raises(CommandError, match="negatif"):
        call_command("webhook_prune", "--days", "-1")
    assert WebhookDelivery.objects.count() == 1
    assert not AuditEntry.objects.filter(action="webhook.deliveries_pruned").exists()


def test_pruning_deletes_a_backlog_in_batches_with_one_audit_entry(admin, agency, mall_admin):
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/")
    old = timezone.now() - timedelta(days=40)
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint=endpoint, event="application.approved", payload=PAYLOAD, created_at=old,
                        status=DeliveryStatus.PENDING if i == 3 else DeliveryStatus.DELIVERED) for i in range(8)])
    deletes = []
    from django.db import connection

    def watch(execute, sql, params, many, context):
        if sql.startswith("DELETE"):
            deletes.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        assert services.webhook_deliveries_prune(actor=mall_admin, older_than=timedelta(days=30), batch=3) == 7
    assert len(deletes) == 3  # 3 + 3 + 1
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [DeliveryStatus.PENDING]
    assert AuditEntry.objects.get(action="webhook.deliveries_pruned").changes["count"] == 7


def _failed_deliveries(agency, receiver, settings, n: int) -> list[WebhookDelivery]:
    """`n` deliveries that used up their tries against an agency system answering 500."""
    settings.SATUPINTU_WEBHOOK_MAX_ATTEMPTS = 1
    receiver["status"] = 500
    for i in range(n):
        emit(agency, payload={**PAYLOAD, "n": i})
    for d in WebhookDelivery.objects.order_by("id"):
        assert services.webhook_delivery_attempt(delivery_id=str(d.uuid)) == "failed"
    return list(WebhookDelivery.objects.order_by("id"))


def test_failed_deliveries_are_sent_again_once_the_system_is_back(admin, agency, receiver, settings,
                                                                  django_capture_on_commit_callbacks):
    endpoint, secret = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    failed = _failed_deliveries(agency, receiver, settings, 3)
    first_bodies = [r["body"] for r in receiver["requests"]]
    receiver["status"] = 200
    emit(agency)
    delivered = WebhookDelivery.objects.latest("id")
    services.webhook_delivery_attempt(delivery_id=str(delivered.uuid))
    deliveries_queued().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhook_deliveries_redeliver(actor=admin, endpoint=endpoint) == 3
    assert sorted(a for q in deliveries_queued() for a in q.args_kwargs["args"]) == sorted(str(d.uuid) for d in failed)
    for d in failed:
        d.refresh_from_db()
        assert (d.status, d.attempts, d.last_status_code) == ("pending", 0, 500) and d.next_attempt_at is not None
    delivered.refresh_from_db()
    assert delivered.status == "delivered" and delivered.attempts == 1  # not sent twice
    entry = AuditEntry.objects.get(action="webhook.redeliver")
    assert entry.object_id == str(endpoint.uuid) and entry.changes == {"count": 3} and entry.actor_id == admin.pk
    for d in failed:
        assert services.webhook_delivery_attempt(delivery_id=str(d.uuid)) == "delivered"
    again = [r["body"] for r in receiver["requests"][-3:]]
    assert again == first_bodies  # the same bodies, ids included: a receiver can tell one it has
    assert all(verify_signature(secret, r["headers"]["X-SatuPintu-Signature"], r["body"]) for r in receiver["requests"][-3:])
    assert services.webhook_deliveries_redeliver(actor=admin, endpoint=endpoint) == 0  # none failed: nothing logged
    assert AuditEntry.objects.filter(action="webhook.redeliver").count() == 1


def test_one_delivery_sent_again_and_the_refusals(admin, agency, other_agency, make_officer, mall_admin, receiver, settings):
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    first, second = _failed_deliveries(agency, receiver, settings, 2)
    other, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"] + "/other")

    def unchanged():
        states = set(WebhookDelivery.objects.values_list("status", "attempts"))
        return states == {("failed", 1)} and not AuditEntry.objects.filter(action="webhook.redeliver").exists()

    for actor in (make_officer(agency, role="front_office"), make_officer(other_agency, role="agency_admin")):
        with pytest.raises(Forbidden):
            services.webhook_deliveries_redeliver(actor=actor, endpoint=endpoint, delivery=first)
        with pytest.raises(Forbidden):
            services.webhook_deliveries_redeliver(actor=actor, endpoint=endpoint)
    with pytest.raises(NotFound) as exc:
        services.webhook_deliveries_redeliver(actor=admin, endpoint=other, delivery=first)
    assert exc.value.code == "delivery_not_found"
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    endpoint.refresh_from_db()
    with pytest.raises(Conflict) as exc:
        services.webhook_deliveries_redeliver(actor=admin, endpoint=endpoint)
    assert exc.value.code == "webhook_inactive" and unchanged()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=True)
    endpoint.refresh_from_db()

    assert services.webhook_deliveries_redeliver(actor=mall_admin, endpoint=endpoint, delivery=second) == 1
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.status, second.attempts, first.status) == ("pending", 0, "failed")
    assert AuditEntry.objects.get(action="webhook.redeliver").changes == {"count": 1, "delivery": str(second.uuid)}
    with pytest.raises(Conflict) as exc:  # pending now: only a failed one is sent again
        services.webhook_deliveries_redeliver(actor=admin, endpoint=endpoint, delivery=second)
    assert exc.value.code == "delivery_not_failed" and exc.value.message
    assert AuditEntry.objects.filter(action="webhook.redeliver").count() == 1


def test_redelivery_takes_the_oldest_failed_first_up_to_the_limit(admin, agency, receiver, settings, monkeypatch):
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    failed = _failed_deliveries(agency, receiver, settings, 3)
    monkeypatch.setattr(services, "REDELIVER_LIMIT", 2)
    assert services.webhook_deliveries_redeliver(actor=admin, endpoint=endpoint) == 2
    assert [d.status for d in WebhookDelivery.objects.order_by("id")] == ["pending", "pending", "failed"]
    assert services.webhook_deliveries_redeliver(actor=admin, endpoint=endpoint) == 1
    assert {d.pk for d in failed} == set(WebhookDelivery.objects.filter(status="pending").values_list("pk", flat=True))


# --- claim before sending, and requeuing what was lost ---------------------------------------

def _system():
    from satupintu.core.permissions import SystemActor

    return SystemActor("tests")


def requeue(minutes=15):
    return services.webhook_deliveries_requeue(actor=_system(), older_than=timedelta(minutes=minutes))


def test_the_delivery_is_claimed_before_the_post(admin, agency, receiver, monkeypatch):
    """While the POST is in flight the delivery is `sending` with the claim's time: a duplicate
    run of the task (a worker's retry) finds it claimed and sends nothing."""
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    emit(agency)
    delivery = WebhookDelivery.objects.get()
    real_post, seen = services._post, []

    def post(*args, **kwargs):
        row = WebhookDelivery.objects.get(pk=delivery.pk)
        seen.append((row.status, row.next_attempt_at))
        # the same task run a second time meanwhile: nothing is POSTed by it
        assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == DeliveryStatus.SENDING
        return real_post(*args, **kwargs)

    monkeypatch.setattr(services, "_post", post)
    before = timezone.now()
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == DeliveryStatus.DELIVERED
    [(status, claimed_at)] = seen
    assert status == DeliveryStatus.SENDING and before <= claimed_at <= timezone.now()
    assert len(receiver["requests"]) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.DELIVERED, 1, None)


def test_a_run_that_loses_the_claim_does_not_post(admin, agency, receiver, monkeypatch):
    """Two runs at once: the one whose conditional UPDATE finds the row taken sends nothing."""
    from django.db.models import QuerySet

    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    emit(agency)
    delivery = WebhookDelivery.objects.get()
    original, rival = QuerySet.update, {"done": False}

    def update(self, **kwargs):
        if kwargs.get("status") == DeliveryStatus.SENDING and not rival["done"]:
            rival["done"] = True  # the rival's claim lands first
            original(self.model.objects.filter(pk=delivery.pk), status=DeliveryStatus.SENDING)
        return original(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == DeliveryStatus.SENDING
    assert receiver["requests"] == [] and WebhookDelivery.objects.get().attempts == 0


def test_a_run_that_read_the_delivery_before_another_tried_it_does_not_post(admin, agency, receiver, monkeypatch):
    """Run A reads the row pending; run B claims, POSTs and fails (pending again, one try, its
    retry queued); A's claim finds a row already tried since it read it and sends nothing."""
    from django.db.models import QuerySet

    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    emit(agency)
    receiver["status"] = 503
    delivery = WebhookDelivery.objects.get()
    original, done = QuerySet.update, {"b": False}

    def update(self, **kwargs):
        if kwargs.get("status") == DeliveryStatus.SENDING and not done["b"]:
            done["b"] = True
            monkeypatch.setattr(QuerySet, "update", original)
            assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == DeliveryStatus.PENDING  # B
        return original(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update)
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == DeliveryStatus.PENDING  # A
    assert len(receiver["requests"]) == 1 and WebhookDelivery.objects.get().attempts == 1


def test_requeue_queues_deliveries_long_past_due_once_and_each_is_posted_once(admin, agency, receiver, mall_admin):
    from io import StringIO

    from django.core.management import call_command

    from satupintu.notify.tasks import deliver_webhook

    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    for i in range(5):  # no on_commit here: every task was "lost"
        emit(agency, payload={**PAYLOAD, "n": i})
    lost, young, retrying, delivered, lost_retry = WebhookDelivery.objects.order_by("id")
    now = timezone.now()
    old = now - timedelta(minutes=20)
    WebhookDelivery.objects.filter(pk__in=[lost.pk, delivered.pk]).update(next_attempt_at=old)
    # tried once and waiting for its retry in 10 minutes; and one whose retry task never came
    WebhookDelivery.objects.filter(pk=retrying.pk).update(attempts=1, next_attempt_at=now + timedelta(minutes=10))
    WebhookDelivery.objects.filter(pk=lost_retry.pk).update(attempts=1, next_attempt_at=old)
    WebhookDelivery.objects.filter(pk=delivered.pk).update(status=DeliveryStatus.DELIVERED)
    out = StringIO()
    call_command("webhook_requeue", "--minutes", "15", stdout=out)
    assert out.getvalue().startswith("2 pengiriman webhook diantrekan kembali")
    assert sorted(q.args_kwargs["args"][0] for q in deliveries_queued()) == sorted([str(lost.uuid), str(lost_retry.uuid)])
    entry = AuditEntry.objects.get(action="webhook.deliveries_requeued")
    assert entry.changes == {"count": 2, "stuck_sending": 0, "failed": 0, "older_than_seconds": 900}
    assert "webhook_requeue" in entry.actor_label and entry.actor_id is None
    lost.refresh_from_db()
    assert lost.status == DeliveryStatus.PENDING and lost.next_attempt_at >= now  # due again from now
    # the next run (minutes later) leaves them alone: they are due again from now
    assert requeue() == 0 and deliveries_queued().count() == 2
    assert AuditEntry.objects.filter(action="webhook.deliveries_requeued").count() == 1  # nothing queued, nothing logged
    # the task queued first and the requeued one both run: one POST
    assert deliver_webhook.call(str(lost.uuid)) == DeliveryStatus.DELIVERED
    assert deliver_webhook.call(str(lost.uuid)) == DeliveryStatus.DELIVERED
    assert [json.loads(r["body"])["id"] for r in receiver["requests"]] == [str(lost.uuid)]
    young.refresh_from_db()
    retrying.refresh_from_db()
    assert (young.status, retrying.status, retrying.attempts) == ("pending", "pending", 1)


def test_a_lost_first_task_and_a_lost_retry_are_found_by_the_requeue(admin, agency, receiver, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    """The enqueue fails after the decision committed, and later a retry's enqueue fails: each
    time the delivery stays pending with the time it was due, and the requeue queues it."""
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    real_enqueue = DatabaseBackend.enqueue

    def down(self, task, args, kwargs):
        raise ConnectionError("queue down")

    monkeypatch.setattr(DatabaseBackend, "enqueue", down)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            emit(agency)
    delivery = WebhookDelivery.objects.get()
    assert deliveries_queued().count() == 0 and delivery.status == "pending"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=16))
    monkeypatch.setattr(DatabaseBackend, "enqueue", real_enqueue)
    assert requeue() == 1 and deliveries_queued().count() == 1
    receiver["status"] = 500
    monkeypatch.setattr(DatabaseBackend, "enqueue", down)
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "pending"  # its retry is lost
    monkeypatch.setattr(DatabaseBackend, "enqueue", real_enqueue)
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and deliveries_queued().count() == 1
    assert requeue() == 0  # the retry is not due yet
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=16))
    assert requeue() == 1 and deliveries_queued().count() == 2
    receiver["status"] = 200
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "delivered"


def test_requeue_puts_back_a_delivery_whose_sender_stopped_during_the_post(admin, agency, receiver, monkeypatch):
    """Claimed 20 minutes ago and still `sending`: the worker died during the POST. It is pending
    again (the try counted), queued, and delivered by the next run; one claimed a minute ago is
    left alone."""
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    emit(agency)
    emit(agency)
    stuck, busy = WebhookDelivery.objects.order_by("id")

    class Stop(BaseException):  # not a network error: the process ends here
        pass

    def die(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(services, "_post", die)
    with pytest.raises(Stop):
        services.webhook_delivery_attempt(delivery_id=str(stuck.uuid))
    monkeypatch.undo()
    stuck.refresh_from_db()
    assert stuck.status == DeliveryStatus.SENDING and timezone.now() - stuck.next_attempt_at < timedelta(minutes=1)
    WebhookDelivery.objects.filter(pk=stuck.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=20))
    WebhookDelivery.objects.filter(pk=busy.pk).update(status=DeliveryStatus.SENDING,
                                                      next_attempt_at=timezone.now() - timedelta(minutes=1))
    assert requeue() == 1
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts, stuck.last_error) == ("pending", 1, "stopped during the send")
    assert WebhookDelivery.objects.get(pk=busy.pk).status == DeliveryStatus.SENDING
    assert [q.args_kwargs["args"] for q in deliveries_queued()] == [[str(stuck.uuid)]]
    changes = AuditEntry.objects.get(action="webhook.deliveries_requeued").changes
    assert (changes["count"], changes["stuck_sending"], changes["failed"]) == (1, 1, 0)
    assert services.webhook_delivery_attempt(delivery_id=str(stuck.uuid)) == DeliveryStatus.DELIVERED
    stuck.refresh_from_db()
    assert stuck.attempts == 2 and len(receiver["requests"]) == 1


def test_a_post_that_dies_every_time_ends_failed_not_requeued_for_ever(admin, agency, settings):
    settings.SATUPINTU_WEBHOOK_MAX_ATTEMPTS = 3
    services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/")
    emit(agency)
    WebhookDelivery.objects.update(status=DeliveryStatus.SENDING, attempts=2,
                                   next_attempt_at=timezone.now() - timedelta(minutes=20))
    assert requeue() == 0
    d = WebhookDelivery.objects.get()
    assert (d.status, d.attempts, d.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)
    assert deliveries_queued().count() == 0
    assert AuditEntry.objects.get(action="webhook.deliveries_requeued").changes["failed"] == 1


def test_a_run_whose_claim_was_taken_back_does_not_overwrite_the_newer_run(admin, agency, receiver, monkeypatch):
    """Run A hangs in the POST past webhook_requeue's patience; the delivery is put back and run
    B delivers it. When A's POST finally fails, A leaves B's `delivered` alone and queues no retry."""
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    emit(agency)
    delivery = WebhookDelivery.objects.get()
    real_post, calls = services._post, []

    def post(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:  # run A, stuck talking to the agency's system
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=20))
            assert requeue() == 1
            assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == "delivered"  # run B
            raise TimeoutError("timed out")
        return real_post(*args, **kwargs)

    monkeypatch.setattr(services, "_post", post)
    queued_before = deliveries_queued().count()
    assert services.webhook_delivery_attempt(delivery_id=str(delivery.uuid)) == DeliveryStatus.PENDING  # A gives way
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, "")
    assert deliveries_queued().count() == queued_before + 1  # the requeue's task only, no retry from A
    assert len(receiver["requests"]) == 1


def test_requeue_is_for_the_system_and_mall_admin_with_a_sane_age(admin, agency, make_officer, mall_admin):
    from django.core.management import CommandError, call_command

    services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/")
    emit(agency)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    for actor in (admin, make_officer(agency, role="head")):
        with pytest.raises(Forbidden):
            services.webhook_deliveries_requeue(actor=actor, older_than=timedelta(minutes=15))
    with pytest.raises(InvalidInput) as exc:
        services.webhook_deliveries_requeue(actor=mall_admin, older_than=timedelta(minutes=-1))
    assert exc.value.code == "invalid_age" and exc.value.message
    with pytest.raises(CommandError, match="negatif"):
        call_command("webhook_requeue", "--minutes", "-15")
    assert deliveries_queued().count() == 0 and not AuditEntry.objects.filter(action="webhook.deliveries_requeued").exists()
    assert services.webhook_deliveries_requeue(actor=mall_admin, older_than=timedelta(minutes=15)) == 1
    assert AuditEntry.objects.get(action="webhook.deliveries_requeued").actor_id == mall_admin.pk


def test_requeue_takes_the_oldest_first_up_to_the_limit(admin, agency):
    services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/")
    for _ in range(3):
        emit(agency)
    rows = list(WebhookDelivery.objects.order_by("id"))
    for minutes, d in zip((30, 50, 40), rows, strict=True):
        WebhookDelivery.objects.filter(pk=d.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=minutes))
    assert services.webhook_deliveries_requeue(actor=_system(), older_than=timedelta(minutes=15), limit=2) == 2
    assert sorted(q.args_kwargs["args"][0] for q in deliveries_queued()) == sorted([str(rows[1].uuid), str(rows[2].uuid)])
    assert requeue() == 1  # the rest, next run


def test_the_requeue_task_runs_the_service(admin, agency):
    from satupintu.notify.tasks import requeue_webhook_deliveries

    services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/")
    emit(agency)
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=20))
    assert requeue_webhook_deliveries.call(minutes=30) == 0
    assert requeue_webhook_deliveries.call() == 1  # as run_schedule queues it: 15 minutes


def test_a_delivery_being_sent_is_not_pruned_nor_sent_again_by_hand(admin, agency, mall_admin):
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/")
    emit(agency)
    WebhookDelivery.objects.update(status=DeliveryStatus.SENDING, created_at=timezone.now() - timedelta(days=90),
                                   next_attempt_at=timezone.now())
    sending = WebhookDelivery.objects.get()
    assert services.webhook_deliveries_prune(actor=mall_admin, older_than=timedelta(days=30)) == 0
    with pytest.raises(Conflict) as exc:
        services.webhook_deliveries_redeliver(actor=admin, endpoint=endpoint, delivery=sending)
    assert exc.value.code == "delivery_not_failed"
    assert services.webhook_deliveries_redeliver(actor=admin, endpoint=endpoint) == 0
    assert WebhookDelivery.objects.get().status == DeliveryStatus.SENDING


def test_the_requeue_index_has_the_status_as_a_column():
    """Not a partial index: a statement PostgreSQL prepared once for any status can use it."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, WebhookDelivery._meta.db_table)
    index = constraints["notify_delivery_unfinished"]
    assert index["index"] and index["columns"] == ["status", "next_attempt_at"]
    index_def = next(i for i in WebhookDelivery._meta.indexes if i.name == "notify_delivery_unfinished")
    assert index_def.condition is None


# ---------------------------------------------------------------------------- an endpoint that keeps failing

def _give_up_one(agency):
    """One event, its delivery tried once and given up on (MAX_ATTEMPTS = 1)."""
    emit(agency)
    delivery = WebhookDelivery.objects.filter(status="pending").latest("id")
    return services.webhook_delivery_attempt(delivery_id=str(delivery.uuid))


def test_an_endpoint_failing_for_three_days_is_switched_off_and_its_admins_are_told(admin, agency, receiver, settings):
    from satupintu.notify.models import Notification

    settings.SATUPINTU_WEBHOOK_MAX_ATTEMPTS = 1
    receiver["status"] = 503
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    assert _give_up_one(agency) == "failed"
    endpoint.refresh_from_db()
    started = endpoint.failing_since
    assert started is not None and endpoint.is_active
    assert _give_up_one(agency) == "failed"  # the streak goes on from its start
    endpoint.refresh_from_db()
    assert endpoint.failing_since == started and endpoint.is_active
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=73))
    assert _give_up_one(agency) == "failed"
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_by_failures and endpoint.disabled_at is not None
    entry = AuditEntry.objects.filter(action="webhook.disabled").get()
    assert entry.changes["automatic"] is True and entry.actor_label == "system:webhook"
    note = Notification.objects.get(event="webhook.endpoint_disabled")
    assert note.recipient_id == admin.pk and note.context["url"] == receiver["url"] and note.link == "/kantor/webhook/"
    assert emit(agency) == 0  # nothing is queued for it any more
    # the agency's system is back: the admin switches it on again; the streak is forgotten
    services.webhook_endpoint_set_active(actor=admin, endpoint=endpoint, active=True)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None and not endpoint.disabled_by_failures
    assert AuditEntry.objects.filter(action="webhook.enabled").count() == 1


def test_one_delivery_that_gets_through_ends_the_streak(admin, agency, receiver, settings):
    settings.SATUPINTU_WEBHOOK_MAX_ATTEMPTS = 1
    receiver["status"] = 500
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    _give_up_one(agency)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(hours=100))
    receiver["status"] = 200
    assert _give_up_one(agency) == "delivered"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


def test_zero_hours_never_switches_an_endpoint_off(admin, agency, receiver, settings):
    settings.SATUPINTU_WEBHOOK_MAX_ATTEMPTS = 1
    settings.SATUPINTU_WEBHOOK_DISABLE_AFTER_HOURS = 0
    receiver["status"] = 500
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    _give_up_one(agency)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=30))
    _give_up_one(agency)
    endpoint.refresh_from_db()
    assert endpoint.is_active and not AuditEntry.objects.filter(action="webhook.disabled").exists()


def test_switching_off_and_on_by_hand(admin, agency, other_agency, make_officer):
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url="https://sistem.example/a")
    strangers = (make_officer(agency, role="front_office"), make_officer(other_agency, role="agency_admin"))
    audit = AuditEntry.objects.count()
    services.webhook_endpoint_set_active(actor=admin, endpoint=endpoint, active=True)  # already on: nothing written
    assert AuditEntry.objects.count() == audit
    for stranger in strangers:
        with pytest.raises(Forbidden):
            services.webhook_endpoint_set_active(actor=stranger, endpoint=endpoint, active=False)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).is_active and AuditEntry.objects.count() == audit
    services.webhook_endpoint_set_active(actor=admin, endpoint=endpoint, active=False)
    endpoint.refresh_from_db()
    assert not endpoint.is_active and not endpoint.disabled_by_failures
    assert AuditEntry.objects.filter(action="webhook.disabled").get().changes["automatic"] is False
    assert emit(agency) == 0


def test_the_streak_is_judged_on_the_row_now_not_as_the_task_read_it(admin, agency, receiver, settings):
    """Two deliveries end at about the same time: the one that got through ends a streak the
    other started after this one had read the endpoint; an inactive endpoint's give-ups never count."""
    settings.SATUPINTU_WEBHOOK_MAX_ATTEMPTS = 1
    endpoint, _ = services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])
    stale = WebhookEndpoint.objects.get(pk=endpoint.pk)  # read before the other delivery failed
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())
    services._endpoint_outcome(stale, True, timezone.now())
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None
    # switched off by hand: its queued deliveries fail at once, and start no streak
    receiver["status"] = 500
    emit(agency)
    services.webhook_endpoint_set_active(actor=admin, endpoint=endpoint, active=False)
    assert services.webhook_delivery_attempt(delivery_id=str(WebhookDelivery.objects.get().uuid)) == "failed"
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None and receiver["requests"] == []


def test_an_event_for_people_only_is_never_emitted_to_endpoints(admin, agency, receiver):
    services.webhook_endpoint_create(actor=admin, agency=agency, url=receiver["url"])  # every event
    with pytest.raises(InvalidInput) as exc:
        services.webhook_emit(agency_ids=[agency.pk], event="webhook.endpoint_disabled", payload={})
    assert exc.value.code == "unknown_event" and not WebhookDelivery.objects.exists()
