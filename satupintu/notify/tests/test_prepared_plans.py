"""The requeue's reads, prepared as a worker's connection prepares a statement it runs often, and
planned once for any values (docs/applications-bench.md, finding 7): the status is a parameter
there, so the index they need carries it as a column rather than as a partial index's condition."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from satupintu.cases.tests.test_prepared_plans import _nodes, _plan, _statements
from satupintu.core.permissions import SystemActor
from satupintu.notify import services
from satupintu.notify.models import DeliveryStatus, WebhookDelivery

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif("connection.vendor != 'postgresql'", reason="plans of prepared statements: PostgreSQL")]


def test_the_webhook_requeue_reads_its_index_planned_for_any_values(agency, make_officer):
    endpoint, _ = services.webhook_endpoint_create(actor=make_officer(agency), agency=agency, url="https://sistem.example/")
    old = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint=endpoint, event="application.approved", payload={}, next_attempt_at=old,
                        status=(DeliveryStatus.DELIVERED, DeliveryStatus.PENDING, DeliveryStatus.SENDING)[i % 3])
        for i in range(30)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notify_webhookdelivery")
    seen = _statements(lambda: services.webhook_deliveries_requeue(actor=SystemActor("tests"),
                                                                   older_than=timedelta(minutes=15)))
    [(sql, params)] = [(s, p) for s, p in seen if s.startswith('SELECT "notify_webhookdelivery"."id"') and "FOR UPDATE" in s]
    used = {n.get("Index Name") for n in _nodes(_plan(sql, params))}
    assert "notify_delivery_unfinished" in used, used
