from django.core.management.base import BaseCommand, CommandError

from satupintu.core import audit


class Command(BaseCommand):
    help = "Seal pending audit entries, then verify the hash chain; report the first broken link."

    def handle(self, *args, **options):
        sealed = audit.seal_all()
        result = audit.verify()
        if sealed:
            self.stdout.write(f"{sealed} entri tertunda disegel ke rantai.")
        if not result.ok:
            raise CommandError(
                f"Rantai audit RUSAK pada entri #{result.broken_seq}: {result.reason} "
                f"({result.checked} entri sebelumnya utuh)."
            )
        self.stdout.write(self.style.SUCCESS(f"Rantai audit utuh: {result.checked} entri diperiksa."))
        if result.pending:
            self.stdout.write(self.style.WARNING(
                f"{result.pending} entri belum disegel (penyegel lain sedang berjalan?); belum tercakup rantai."
            ))
