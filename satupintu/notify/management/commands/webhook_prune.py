from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from satupintu.core.commands import refusals_as_command_errors
from satupintu.core.permissions import SystemActor
from satupintu.notify import services


class Command(BaseCommand):
    help = ("Delete the finished webhook deliveries (delivered or failed) created more than --days ago "
            "(default WEBHOOK_DELIVERY_KEEP_DAYS, 30). Pending deliveries are kept.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="keep younger deliveries (default WEBHOOK_DELIVERY_KEEP_DAYS)")

    def handle(self, *args, days=None, **options):
        days = settings.SATUPINTU_WEBHOOK_DELIVERY_KEEP_DAYS if days is None else days
        with refusals_as_command_errors():
            count = services.webhook_deliveries_prune(actor=SystemActor("webhook_prune"), older_than=timedelta(days=days))
        self.stdout.write(self.style.SUCCESS(f"{count} pengiriman webhook lama dihapus."))
