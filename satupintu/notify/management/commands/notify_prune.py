from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from satupintu.core.commands import refusals_as_command_errors
from satupintu.core.permissions import SystemActor
from satupintu.notify import services


class Command(BaseCommand):
    help = ("Delete the notifications created more than --days ago (default NOTIFICATION_KEEP_DAYS, 180), "
            "read or not, once their e-mail is done with.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="keep younger notifications (default NOTIFICATION_KEEP_DAYS)")

    def handle(self, *args, days=None, **options):
        days = settings.SATUPINTU_NOTIFICATION_KEEP_DAYS if days is None else days
        with refusals_as_command_errors():
            count = services.notifications_prune(actor=SystemActor("notify_prune"), older_than=timedelta(days=days))
        self.stdout.write(self.style.SUCCESS(f"{count} notifikasi lama dihapus."))
