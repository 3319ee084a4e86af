from django.core.management.base import BaseCommand, CommandError

from satupintu.core import audit


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; report the first broken link."

    def handle(self, *args, **options):
        result = audit.verify()
        if not result.ok:
            raise CommandError(
                f"Rantai audit RUSAK pada entri #{result.broken_seq}: {result.reason} "
                f"({result.checked} entri sebelumnya utuh)."
            )
        self.stdout.write(self.style.SUCCESS(f"Rantai audit utuh: {result.checked} entri diperiksa."))
