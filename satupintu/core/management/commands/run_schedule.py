import signal

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from satupintu.core import schedule


class Command(BaseCommand):
    help = ("Queue the platform's periodic work as background tasks at fixed times (--list prints the jobs "
            "and their next times), for the task workers to run. One per deployment; replaces the cron lines "
            "of the README.")

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="print the schedule and the next times, then stop")

    def handle(self, *args, list=False, **options):  # noqa: A002 — the option's name
        try:
            tz = schedule.site_zone()
        except DatabaseError as exc:
            raise CommandError(f"Basis data belum siap (jalankan manage.py migrate): {exc}") from exc
        try:
            jobs = schedule.jobs()
        except ValueError as exc:  # a malformed QUEUE_DAY_CLOSE_AT or VAULT_SWEEP_AT
            raise CommandError(str(exc)) from exc
        now = timezone.now()
        for job in jobs:
            self.stdout.write(f"{job.name:<18} {job.describe():<24} berikutnya {job.next_after(now, tz).astimezone(tz):%Y-%m-%d %H:%M %Z}")
        if list:
            return
        stopping = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stopping.append(True))
        self.stdout.write(self.style.SUCCESS(f"Jadwal berjalan ({tz.key}); Ctrl+C menghentikan."))
        self.stdout.flush()

        def queued(job, moment):
            self.stdout.write(f"{moment.astimezone(tz):%Y-%m-%d %H:%M:%S} {job.name} diantrekan")
            self.stdout.flush()

        schedule.run(schedule=jobs, tz=tz, running=lambda: not stopping, on_queued=queued,
                     sleep=lambda seconds: _sleep_unless(stopping, seconds))


def _sleep_unless(stopping: list, seconds: float) -> None:
    """Sleep in short steps so that a stop signal ends the command within a second."""
    import time

    end = time.monotonic() + seconds
    while not stopping and time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
