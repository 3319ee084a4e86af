from django.core.management.base import BaseCommand

from satupintu.core.commands import refusals_as_command_errors
from satupintu.notify import tasks


class Command(BaseCommand):
    help = ("Delete the finished webhook deliveries (delivered or failed) created more than --days ago "
            "(default WEBHOOK_DELIVERY_KEEP_DAYS, 30). Pending deliveries are kept.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="keep younger deliveries (default WEBHOOK_DELIVERY_KEEP_DAYS)")

    def handle(self, *args, days=None, **options):
        with refusals_as_command_errors():
            count = tasks.prune_webhook_deliveries.call(days=days)  # the scheduled task's body, run here
        self.stdout.write(self.style.SUCCESS(f"{count} pengiriman webhook lama dihapus."))
