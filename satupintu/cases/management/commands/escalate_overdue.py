from datetime import date

from django.core.management.base import BaseCommand

from satupintu.cases import services
from satupintu.core.permissions import SystemActor


class Command(BaseCommand):
    help = "Report every workflow stage past its due date to the agency head and the mall administrators (once per stage)."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=date.fromisoformat, help="YYYY-MM-DD (default: today, site time)")

    def handle(self, *args, today=None, **options):
        count = services.stage_escalate_overdue(actor=SystemActor("escalate_overdue"), today=today)
        self.stdout.write(self.style.SUCCESS(f"{count} tahap terlambat dilaporkan ke kepala instansi dan pengelola MPP."))
