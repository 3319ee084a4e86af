from django.core.management.base import BaseCommand

from satupintu.core import audit


class Command(BaseCommand):
    help = "Link pending audit entries into the hash chain (run from cron, e.g. every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="entries per sealing transaction")

    def handle(self, *args, batch, **options):
        sealed = audit.seal_all(batch=batch)
        pending = audit.pending_count()
        self.stdout.write(f"{sealed} entri disegel; {pending} masih tertunda.")
