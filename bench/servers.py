"""What the HTTP benches share: a fresh PostgreSQL database with the MPP Pekanbaru profile, and
granian servers of the project on 127.0.0.1 that are stopped with their worker processes."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def fresh_database(url: str) -> None:
    """Drop the PostgreSQL database `url` names, if it exists, and create it empty."""
    import psycopg

    dbname, admin = url.rsplit("/", 1)[1], url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        conn.execute(f'CREATE DATABASE "{dbname}"')


def recreate_database(env) -> None:
    """A fresh env["DATABASE_URL"], migrated, with the MPP Pekanbaru profile loaded."""
    fresh_database(env["DATABASE_URL"])
    for args in (["migrate", "-v0"], ["load_profile", "mpp-pekanbaru"]):
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def start_servers(env, n: int, base_port: int, *, threads: int = 8, ready_path: str = "/api/v1/health"):
    """`n` granian processes (one worker, `threads` blocking threads each) on consecutive ports,
    each in a session of its own; returns (processes, urls) once every one answers `ready_path`."""
    procs = [subprocess.Popen(
        [str(Path(PY).parent / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(base_port + i),
         "--workers", "1", "--blocking-threads", str(threads), "--log-level", "warning",
         "satupintu.config.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for i in range(n)]
    urls = [f"http://127.0.0.1:{base_port + i}" for i in range(n)]
    deadline = time.monotonic() + 60
    for url in urls:
        while True:
            try:
                urllib.request.urlopen(url + ready_path, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    stop_servers(procs)
                    raise SystemExit(f"server {url} did not start")
                time.sleep(0.3)
    return procs, urls


def stop_servers(procs) -> None:
    """Stop the servers and the worker processes they started, killing what lingers."""
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
