"""The webhooks revision (`core.revisions.WEBHOOKS`) changes when an endpoint is added, removed,
moved, switched on or off, or subscribed to other events: what the web processes' copies of
"which endpoints take this event" depend on. Its address, secret and failure streak are read by
the delivery task itself and do not change it (a failing endpoint's streak is written on every
attempt)."""

from django.db import migrations

from satupintu.core.migration_ops import RevisionTriggers

ENDPOINT_COLUMNS = ["id", "agency_id", "is_active", "events"]


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_revision"),
        ("notify", "0009_endpoint_failing"),
    ]

    operations = [
        RevisionTriggers("notify_webhookendpoint", "webhooks", ENDPOINT_COLUMNS),
    ]
