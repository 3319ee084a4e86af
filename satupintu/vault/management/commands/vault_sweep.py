from datetime import timedelta

from django.core.management.base import BaseCommand

from satupintu.core.commands import refusals_as_command_errors
from satupintu.core.permissions import SystemActor
from satupintu.vault import services


class Command(BaseCommand):
    help = "Remove vault files no document names (left by a rolled-back upload or a crash), older than --minutes."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=60, help="leave younger files alone (default 60)")

    def handle(self, *args, minutes=60, **options):
        with refusals_as_command_errors():  # a negative age: a typo is not "everything, now"
            count = services.vault_sweep(actor=SystemActor("vault_sweep"), older_than=timedelta(minutes=minutes))
        self.stdout.write(self.style.SUCCESS(f"{count} berkas tanpa dokumen dihapus dari brankas."))
