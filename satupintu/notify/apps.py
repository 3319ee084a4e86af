from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "satupintu.notify"
    label = "notify"
    verbose_name = "Notifikasi"

    def ready(self):
        from satupintu.core import revisions

        from .models import WebhookEndpoint

        # web processes keep copies of which endpoints take an event (services._endpoints_taking):
        # its agency, switch and events. What the delivery task reads itself, and the failure
        # streak written on every failed attempt, change nothing.
        revisions.watch(WebhookEndpoint, revisions.WEBHOOKS, ignore=[
            "uuid", "url", "secret", "created_at", "created_by", "failing_since", "disabled_at", "disabled_by_failures"])
