from datetime import timedelta

import pytest
from django.utils import timezone

from satupintu.core.models import AuditEntry
from satupintu.notify import services
from satupintu.notify.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(agency, other_agency, make_officer):
    return {"admin": make_officer(agency, role="agency_admin"), "fo": make_officer(agency, role="front_office"),
            "foreign": make_officer(other_agency, role="agency_admin")}


def test_create_list_deliveries_delete(api, people, agency, django_assert_max_num_queries):
    token = api.token(people["admin"])
    r = api.post("/webhooks", {"url": "https://sistem.dpmptsp.example/hook", "events": ["application.approved"]}, token=token)
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["secret"].startswith("whsec_") and created["agency"]["slug"] == "dpmptsp"
    for i in range(29):
        services.webhook_endpoint_create(actor=people["admin"], agency=agency, url=f"https://sistem.example/{i}")
    with django_assert_max_num_queries(4):
        r = api.get("/webhooks", {"page_size": 50}, token=token)
    assert r.json()["count"] == 30 and "secret" not in r.json()["results"][0]
    for _ in range(30):
        services.webhook_emit(agency_ids=[agency.pk], event="application.approved", payload={"n": 1})
    with django_assert_max_num_queries(5):
        r = api.get(f"/webhooks/{created['uuid']}/deliveries", {"page_size": 50}, token=token)
    assert r.status_code == 200 and r.json()["count"] == 30 and r.json()["results"][0]["status"] == "pending"
    r = api.post(f"/webhooks/{created['uuid']}/rotate-secret", token=token)
    assert r.status_code == 200 and r.json()["secret"] != created["secret"]
    assert api._call("delete", f"/webhooks/{created['uuid']}", None, token).status_code == 204
    assert not WebhookEndpoint.objects.filter(uuid=created["uuid"]).exists()
    assert WebhookDelivery.objects.count() == 29 * 30  # the removed endpoint's history went with it


def test_scoping_and_refusals(api, people, agency, other_agency, mall_admin, citizen):
    endpoint, _ = services.webhook_endpoint_create(actor=people["admin"], agency=agency, url="https://sistem.example/a")
    services.webhook_endpoint_create(actor=people["foreign"], agency=other_agency, url="https://sistem.example/b")
    foreign = api.token(people["foreign"])
    assert [e["url"] for e in api.get("/webhooks", token=foreign).json()["results"]] == ["https://sistem.example/b"]
    assert api.get("/webhooks", {"agency": "dpmptsp"}, token=foreign).status_code == 403
    r = api.get(f"/webhooks/{endpoint.uuid}/deliveries", token=foreign)
    assert r.status_code == 404 and r.json()["code"] == "webhook_not_found"
    assert api._call("delete", f"/webhooks/{endpoint.uuid}", None, foreign).status_code == 404
    r = api.post("/webhooks", {"url": "https://x.example/", "agency": "dpmptsp"}, token=foreign)
    assert r.status_code == 403 and r.json()["message"]
    fo = api.token(people["fo"])
    assert api.get("/webhooks", token=fo).json()["count"] == 1  # officers read their agency's list
    assert api.post("/webhooks", {"url": "https://x.example/"}, token=fo).status_code == 403
    assert api.get("/webhooks", token=api.token(citizen)).status_code == 403
    assert api.post("/webhooks", {"url": "https://x.example/", "agency": "dpmptsp"}, token=api.token(citizen)).status_code == 403
    assert api.get("/webhooks").status_code == 401
    admin = api.token(mall_admin)
    assert api.get("/webhooks", token=admin).json()["count"] == 2
    assert api.get("/webhooks", {"agency": "disdukcapil"}, token=admin).json()["count"] == 1
    r = api.post("/webhooks", {"url": "https://x.example/"}, token=admin)
    assert r.status_code == 400 and r.json()["code"] == "agency_required"
    assert WebhookEndpoint.objects.count() == 2


@pytest.mark.parametrize("payload,status,code", [
    ({"url": "ftp://x.example/"}, 400, "invalid_url"),
    ({"url": "https://x.example/", "events": ["application.nope"]}, 400, "unknown_event"),
    ({"url": "https://x.example/", "events": "application.approved"}, 422, "invalid_input"),
    ({}, 422, "invalid_input"),
])
def test_bad_create_requests(api, people, payload, status, code):
    r = api.post("/webhooks", payload, token=api.token(people["admin"]))
    assert r.status_code == status and r.json()["code"] == code and r.json()["message"]
    assert WebhookEndpoint.objects.count() == 0


def test_office_page(client, people, agency, django_assert_max_num_queries):
    client.force_login(people["admin"])
    r = client.post("/kantor/webhook/", {"action": "create", "url": "https://sistem.example/hook",
                                         "events": ["application.approved", "application.rejected"]})
    assert r.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    html = client.get("/kantor/webhook/").content.decode()
    assert endpoint.secret in html and "tidak akan ditampilkan lagi" in html
    assert endpoint.secret not in client.get("/kantor/webhook/").content.decode()  # shown once
    for i in range(29):
        services.webhook_endpoint_create(actor=people["admin"], agency=agency, url=f"https://sistem.example/{i}")
    for _ in range(30):
        services.webhook_emit(agency_ids=[agency.pk], event="application.approved", payload={})
    with django_assert_max_num_queries(10):
        r = client.get("/kantor/webhook/")
    assert r.content.decode().count('name="action" value="delete"') == 30
    client.post("/kantor/webhook/", {"action": "rotate", "endpoint": str(endpoint.uuid)})
    endpoint.refresh_from_db()
    assert endpoint.secret in client.get("/kantor/webhook/").content.decode()
    r = client.post("/kantor/webhook/", {"action": "create", "url": "ftp://nope"}, follow=True)
    assert "URL http(s)" in r.content.decode() and WebhookEndpoint.objects.count() == 30
    client.post("/kantor/webhook/", {"action": "delete", "endpoint": str(endpoint.uuid)})
    assert WebhookEndpoint.objects.count() == 29


def test_office_page_refusals(client, people, agency, citizen, mall_admin, other_agency):
    endpoint, _ = services.webhook_endpoint_create(actor=people["admin"], agency=agency, url="https://sistem.example/a")
    client.force_login(citizen)
    assert client.get("/kantor/webhook/").status_code == 403
    client.force_login(people["fo"])
    html = client.get("/kantor/webhook/").content.decode()
    assert "sistem.example/a" in html and 'value="delete"' not in html and "Tambah webhook" not in html
    client.post("/kantor/webhook/", {"action": "delete", "endpoint": str(endpoint.uuid)})
    client.force_login(people["foreign"])
    assert "sistem.example/a" not in client.get("/kantor/webhook/").content.decode()
    r = client.post("/kantor/webhook/", {"action": "delete", "endpoint": str(endpoint.uuid)}, follow=True)
    assert "Webhook tidak ditemukan" in r.content.decode()
    assert WebhookEndpoint.objects.count() == 1
    client.force_login(mall_admin)
    html = client.get("/kantor/webhook/").content.decode()
    assert "sistem.example/a" in html and "Pilih instansi untuk menambah webhook" in html
    client.post("/kantor/webhook/", {"action": "create", "url": "https://sistem.example/c", "instansi": "disdukcapil"})
    assert WebhookEndpoint.objects.filter(agency=other_agency).count() == 1


def _fail(deliveries) -> None:
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
        status="failed", attempts=8, last_status_code=503, next_attempt_at=None)


def test_redeliver_over_the_api(api, people, agency, mall_admin, citizen):
    endpoint, _ = services.webhook_endpoint_create(actor=people["admin"], agency=agency, url="https://sistem.example/a")
    for _ in range(3):
        services.webhook_emit(agency_ids=[agency.pk], event="application.approved", payload={})
    one, two, pending = WebhookDelivery.objects.order_by("id")
    _fail([one, two])
    token = api.token(people["admin"])
    r = api.post(f"/webhooks/{endpoint.uuid}/deliveries/{one.uuid}/redeliver", token=token)
    assert r.status_code == 200, r.content
    assert (r.json()["uuid"], r.json()["status"], r.json()["attempts"]) == (str(one.uuid), "pending", 0)
    r = api.post(f"/webhooks/{endpoint.uuid}/deliveries/{pending.uuid}/redeliver", token=token)
    assert r.status_code == 409 and r.json()["code"] == "delivery_not_failed" and r.json()["message"]
    r = api.post(f"/webhooks/{endpoint.uuid}/redeliver", token=api.token(mall_admin))
    assert r.status_code == 200 and r.json() == {"queued": 1}
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"pending"}


def test_redeliver_refusals_over_the_api(api, people, agency, citizen):
    endpoint, _ = services.webhook_endpoint_create(actor=people["admin"], agency=agency, url="https://sistem.example/a")
    services.webhook_emit(agency_ids=[agency.pk], event="application.approved", payload={})
    delivery = WebhookDelivery.objects.get()
    _fail([delivery])
    one = f"/webhooks/{endpoint.uuid}/deliveries/{delivery.uuid}/redeliver"
    every = f"/webhooks/{endpoint.uuid}/redeliver"
    for path in (one, every):
        r = api.post(path, token=api.token(people["foreign"]))
        assert r.status_code == 404 and r.json()["code"] == "webhook_not_found"
        r = api.post(path, token=api.token(people["fo"]))  # reads the list, may not send
        assert r.status_code == 403 and r.json()["code"] == "webhook_forbidden"
        assert api.post(path, token=api.token(citizen)).status_code == 403
        assert api.post(path).status_code == 401
    token = api.token(people["admin"])
    for bad in ("not-a-uuid", "6f1c7d3e-0000-4000-8000-000000000000"):
        r = api.post(f"/webhooks/{endpoint.uuid}/deliveries/{bad}/redeliver", token=token)
        assert r.status_code == 404 and r.json()["code"] == "delivery_not_found"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 8)
    assert not AuditEntry.objects.filter(action="webhook.redeliver").exists()


def test_office_page_sends_failed_deliveries_again(client, people, agency, django_assert_max_num_queries):
    endpoint, _ = services.webhook_endpoint_create(actor=people["admin"], agency=agency, url="https://sistem.example/a")
    for _ in range(25):
        services.webhook_emit(agency_ids=[agency.pk], event="application.approved", payload={})
    deliveries = list(WebhookDelivery.objects.order_by("id"))
    _fail(deliveries[:20])
    client.force_login(people["admin"])
    with django_assert_max_num_queries(10):
        html = client.get("/kantor/webhook/").content.decode()
    assert html.count('name="delivery"') == 20  # a button on each failed row only
    r = client.post("/kantor/webhook/", {"action": "redeliver", "endpoint": str(endpoint.uuid),
                                         "delivery": str(deliveries[0].uuid)}, follow=True)
    assert "1 pengiriman yang gagal dikirim ulang" in r.content.decode()
    r = client.post("/kantor/webhook/", {"action": "redeliver", "endpoint": str(endpoint.uuid)}, follow=True)
    assert "19 pengiriman yang gagal dikirim ulang" in r.content.decode()
    r = client.post("/kantor/webhook/", {"action": "redeliver", "endpoint": str(endpoint.uuid)}, follow=True)
    assert "Tidak ada pengiriman gagal" in r.content.decode()
    assert not WebhookDelivery.objects.filter(status="failed").exists()
    client.force_login(people["fo"])
    html = client.get("/kantor/webhook/").content.decode()
    assert 'value="redeliver"' not in html
    _fail(deliveries[:1])
    r = client.post("/kantor/webhook/", {"action": "redeliver", "endpoint": str(endpoint.uuid)}, follow=True)
    assert "Hanya admin instansi" in r.content.decode()
    assert WebhookDelivery.objects.filter(status="failed").count() == 1


def test_a_delivery_being_sent_shows_its_status_on_the_page_and_in_the_api(client, api, people, agency):
    from django.utils import timezone, translation

    endpoint, _ = services.webhook_endpoint_create(actor=people["admin"], agency=agency, url="https://sistem.example/a")
    services.webhook_emit(agency_ids=[agency.pk], event="application.approved", payload={})
    WebhookDelivery.objects.update(status="sending", next_attempt_at=timezone.now())
    client.force_login(people["admin"])
    html = client.get("/kantor/webhook/").content.decode()
    assert "Sedang dikirim" in html and 'name="delivery"' not in html  # no "send again" while it is being sent
    token = api.token(people["admin"])
    [row] = api.get(f"/webhooks/{endpoint.uuid}/deliveries", token=token).json()["results"]
    assert (row["status"], row["status_label"]) == ("sending", "Sedang dikirim")
    with translation.override("en"):
        assert WebhookDelivery.objects.get().get_status_display() == "Sending"


def test_switch_an_endpoint_off_and_on_over_the_api_and_the_page(client, api, people, agency):
    endpoint, _ = services.webhook_endpoint_create(actor=people["admin"], agency=agency, url="https://sistem.example/a")
    token = api.token(people["admin"])
    r = api.patch(f"/webhooks/{endpoint.uuid}", {"is_active": False}, token=token)
    assert r.status_code == 200 and r.json()["is_active"] is False and r.json()["disabled_at"]
    assert r.json()["disabled_by_failures"] is False
    r = api.patch(f"/webhooks/{endpoint.uuid}", {"is_active": "bukan"}, token=token)
    assert r.status_code == 422
    r = api.patch(f"/webhooks/{endpoint.uuid}", {"is_active": True}, token=api.token(people["fo"]))
    assert r.status_code == 403 and not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    r = api.patch(f"/webhooks/{endpoint.uuid}", {"is_active": True}, token=api.token(people["foreign"]))
    assert r.status_code == 404 and not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active  # not theirs to see
    client.force_login(people["admin"])
    html = client.get("/kantor/webhook/").content.decode()
    assert 'value="enable"' in html and 'value="disable"' not in html
    r = client.post("/kantor/webhook/", {"action": "enable", "endpoint": str(endpoint.uuid)}, follow=True)
    assert "Webhook diaktifkan lagi" in r.content.decode() and WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    # switched off by SatuPintu: the page says why and since when
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_by_failures=True, disabled_at=timezone.now(),
        failing_since=timezone.now() - timedelta(days=3))
    assert "Dinonaktifkan otomatis" in client.get("/kantor/webhook/").content.decode()
