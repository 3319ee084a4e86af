from django.core.management.base import BaseCommand

from satupintu.core.commands import refusals_as_command_errors
from satupintu.notify import tasks


class Command(BaseCommand):
    help = ("Queue again the emails still pending --minutes after they were due (their task was lost: a "
            "failed enqueue, or a worker stopped in the middle of a batch), and those still being sent "
            "--minutes after they were claimed (the worker stopped during the send: sent again).")

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=15, help="leave younger notifications alone (default 15)")

    def handle(self, *args, minutes=15, **options):
        with refusals_as_command_errors():
            count = tasks.requeue_emails.call(minutes=minutes)  # the scheduled task's body, run here
        self.stdout.write(self.style.SUCCESS(f"{count} email notifikasi diantrekan kembali."))
