from django.core.management.base import BaseCommand

from satupintu.core.commands import refusals_as_command_errors
from satupintu.notify import tasks


class Command(BaseCommand):
    help = ("Delete the notifications created more than --days ago (default NOTIFICATION_KEEP_DAYS, 180), "
            "read or not, once their e-mail is done with.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="keep younger notifications (default NOTIFICATION_KEEP_DAYS)")

    def handle(self, *args, days=None, **options):
        with refusals_as_command_errors():
            count = tasks.prune_notifications.call(days=days)  # the scheduled task's body, run here
        self.stdout.write(self.style.SUCCESS(f"{count} notifikasi lama dihapus."))
