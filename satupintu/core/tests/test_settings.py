"""The production mode is reached through the environment alone and passes Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_manage(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    full_env.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True)


def test_production_mode_passes_check_deploy(tmp_path):
    r = run_manage("check", "--deploy", "--fail-level", "WARNING", SATUPINTU_ENV="production",
                   SECRET_KEY="x" * 20 + "production-secret-key-for-the-check-only-0123456789",
                   ALLOWED_HOSTS="mpp.example.go.id", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
                   STATIC_ROOT=str(tmp_path / "static"))
    assert r.returncode == 0, r.stderr
    assert "no issues" in r.stdout


def test_production_mode_refuses_a_missing_secret_key(tmp_path):
    r = run_manage("check", SATUPINTU_ENV="production", SECRET_KEY="", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    assert r.returncode != 0 and "SECRET_KEY must be set" in r.stderr


def test_models_and_migrations_agree(db):
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # exits non-zero on a missing migration
