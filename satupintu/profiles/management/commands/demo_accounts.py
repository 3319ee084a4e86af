import tomllib

from django.conf import settings
from django.core.management.base import BaseCommand

from satupintu.identity.models import User
from satupintu.profiles.loader import PROFILES_DIR


class Command(BaseCommand):
    help = "Print the demo accounts of a profile that exist in this database."

    def add_arguments(self, parser):
        parser.add_argument("profile", nargs="?", default=settings.SATUPINTU_SITE_SLUG)

    def handle(self, *args, profile, **options):
        path = PROFILES_DIR / profile / "demo_accounts.toml"
        if not path.exists():
            self.stdout.write(f"Profil {profile} tidak punya akun demo.")
            return
        accounts = tomllib.loads(path.read_text()).get("account", [])
        emails = [a["email"].lower() for a in accounts if a.get("email")]
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))  # stored lower-case
        self.stdout.write("Akun demo (hanya untuk demonstrasi):")
        for acc in accounts:
            if (acc.get("email") or "").lower() in existing:
                where = f" — {acc['agency']}" if acc.get("agency") else ""
                self.stdout.write(f"  {acc['role']:<14} {acc['email']:<40} sandi: {acc['password']}{where}")
