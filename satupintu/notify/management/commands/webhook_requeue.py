from django.core.management.base import BaseCommand

from satupintu.core.commands import refusals_as_command_errors
from satupintu.notify import tasks


class Command(BaseCommand):
    help = ("Queue again the webhook deliveries still pending --minutes after they were due (their task was "
            "lost: a failed enqueue), and those still being sent --minutes after they were claimed (the worker "
            "stopped during the POST: sent again, with the same id). At most 1,000 a run, the oldest first.")

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=15, help="leave younger deliveries alone (default 15)")

    def handle(self, *args, minutes=15, **options):
        with refusals_as_command_errors():
            count = tasks.requeue_webhook_deliveries.call(minutes=minutes)  # the scheduled task's body, run here
        self.stdout.write(self.style.SUCCESS(f"{count} pengiriman webhook diantrekan kembali."))
