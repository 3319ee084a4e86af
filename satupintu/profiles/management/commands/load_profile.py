import time

from django.core.management.base import BaseCommand, CommandError

from satupintu.core.errors import DomainError
from satupintu.core.permissions import SystemActor
from satupintu.profiles import loader


class Command(BaseCommand):
    help = "Load a reference deployment profile (site, agencies, counters, services). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("profile", help=f"profile folder name, one of: {', '.join(loader.available())}")
        parser.add_argument("--demo-accounts", action="store_true", help="also create the profile's demo accounts")

    def handle(self, *args, profile, demo_accounts, **options):
        started = time.monotonic()
        try:
            spec = loader.read(profile)
        except loader.ProfileError as exc:
            raise CommandError("Profil tidak valid; tidak ada yang diubah:\n  - " + "\n  - ".join(exc.problems)) from None
        n = sum(len(a.services) for a in spec.agencies)
        self.stdout.write(f"Memuat profil {profile}: {len(spec.agencies)} instansi, {n} layanan …")
        try:
            report = loader.load(spec, actor=SystemActor("load_profile"), demo_accounts=demo_accounts,
                                 progress=lambda msg: self.stdout.write(msg))
        except DomainError as exc:  # the database disagrees with the profile (e.g. a code taken); all rolled back
            details = f"\n  {exc.details}" if exc.details else ""
            raise CommandError(f"Profil tidak dapat dimuat; tidak ada yang diubah: {exc.message}{details}") from None
        self.stdout.write(self.style.SUCCESS(
            f"Selesai dalam {time.monotonic() - started:.1f} s: {report.agencies} instansi "
            f"({report.changed_agencies} baru/berubah), {report.services} layanan "
            f"({report.changed_services} baru/berubah), "
            f"{report.document_types_changed} jenis dokumen baru/berubah, "
            f"{report.queue_groups_changed} kelompok antrean baru/berubah."
        ))
        if report.accounts_created:
            self.stdout.write(f"Akun demo dibuat: {', '.join(report.accounts_created)}")
