from django.core.management.base import BaseCommand

from satupintu.core.commands import refusals_as_command_errors
from satupintu.vault import tasks


class Command(BaseCommand):
    help = "Remove vault files no document names (left by a rolled-back upload or a crash), older than --minutes."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=60, help="leave younger files alone (default 60)")

    def handle(self, *args, minutes=60, **options):
        with refusals_as_command_errors():  # a negative age: a typo is not "everything, now"
            count = tasks.vault_sweep.call(minutes=minutes)  # the scheduled task's body, run here
        self.stdout.write(self.style.SUCCESS(f"{count} berkas tanpa dokumen dihapus dari brankas."))
