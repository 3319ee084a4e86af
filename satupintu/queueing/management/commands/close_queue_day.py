from datetime import date

from django.core.management.base import BaseCommand, CommandError

from satupintu.catalog.selectors import site_current
from satupintu.core.permissions import SystemActor
from satupintu.queueing import services


class Command(BaseCommand):
    help = "Close the queue day: mark unserved tickets, close counters, expire unused bookings."

    def add_arguments(self, parser):
        parser.add_argument("--day", type=date.fromisoformat, help="YYYY-MM-DD (default: today, site time)")

    def handle(self, *args, day=None, **options):
        site = site_current()
        if site is None:
            raise CommandError("Belum ada mal: jalankan load_profile dulu.")
        day = day or services.local_day(site)
        result = services.queue_day_close(actor=SystemActor("close_queue_day"), site=site, day=day)
        self.stdout.write(self.style.SUCCESS(
            f"Hari {result['day']} ditutup: {result['tickets_expired']} tiket tidak terlayani, "
            f"{result['counters_closed']} loket ditutup, {result['bookings_expired']} reservasi kedaluwarsa."))
