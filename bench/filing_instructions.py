#!/usr/bin/env python
"""Benchmark: the web server's own work for one API filing, in CPU instructions.

Seconds on a shared 2-core machine drift by tens of percent between runs; instructions do not.
This files PBG applications (`POST /api/v1/applications`, submit: true, six vault documents)
in-process through Django's WSGI handler, the same request the HTTP bench sends, and counts the
instructions of the loop with valgrind's callgrind (instrumentation switched on only around the
loop, so start-up and set-up are not counted; PostgreSQL's work is not counted either). It also
prints the CPU milliseconds per filing of an uninstrumented loop.

    .venv/bin/python bench/filing_instructions.py                 # 50 filings under callgrind, 300 timed
    .venv/bin/python bench/filing_instructions.py --filings 20 --fresh

The database is $PROFILE_PG_URL (default postgres://postgres@127.0.0.1:5432/satupintu_filing_profile),
created with the MPP Pekanbaru profile, the bench accounts and 2,000 seeded applications when it
does not exist yet (or with --fresh). Everything talks to 127.0.0.1 only.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
URL = os.environ.get("PROFILE_PG_URL", "postgres://postgres@127.0.0.1:5432/satupintu_filing_profile")
ENV = {"DATABASE_URL": URL, "DEBUG": "false", "SECRET_KEY": "bench-only-secret-key-0123456789abcdef",
       "ALLOWED_HOSTS": "127.0.0.1,testserver", "DJANGO_SETTINGS_MODULE": "satupintu.config.settings",
       "LOG_LEVEL": "WARNING", "SATUPINTU_DATA_DIR": str(ROOT / "var" / "bench-profile"),
       "SATUPINTU_VAULT_DIR": str(ROOT / "var" / "bench-profile" / "vault")}


def database_exists() -> bool:
    import psycopg

    name, admin = URL.rsplit("/", 1)[1], URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def loop(filings: int, warmup: int, mode: str) -> None:
    """In this process: set up, warm up, then file `filings` applications (counted or timed)."""
    os.environ.update(ENV)
    import submit_and_inbox as bench  # noqa: E402  (bench/submit_and_inbox.py: accounts, documents, seed)

    prep = bench.worker_prepare(2000)
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()

    def call(path, body, headers):
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
                   "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(body),
                   "wsgi.url_scheme": "http", "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
                   "REMOTE_ADDR": "127.0.0.1", "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
                   "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
                   "SERVER_PROTOCOL": "HTTP/1.1", **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}}
        status = []
        out = b"".join(handler(environ, lambda s, h, exc=None: status.append(s)))
        return status[0], out

    citizen = prep["citizens"][0]
    status, out = call("/api/v1/auth/login", json.dumps({"username": citizen["email"], "password": bench.PASSWORD}).encode(), {})
    assert status.startswith("200"), (status, out)
    token = json.loads(out)["token"]
    body = json.dumps({"service": bench.SERVICE, "submit": True, "documents": citizen["documents"]}).encode()

    def file_one():
        status, out = call("/api/v1/applications", body, {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
        assert status.startswith("201"), (status, out[:300])

    for _ in range(warmup):  # the process's copies, prepared statements, caches
        file_one()
    if mode == "callgrind":
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
        for _ in range(filings):
            file_one()
        subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
    else:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(filings):
            file_one()
        print(json.dumps({"wall_ms": (time.perf_counter() - wall) / filings * 1000,
                          "cpu_ms": (time.process_time() - cpu) / filings * 1000}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--filings", type=int, default=50, help="filings counted under callgrind")
    parser.add_argument("--timed", type=int, default=300, help="filings timed without instrumentation (0: none)")
    parser.add_argument("--fresh", action="store_true", help="create the database again")
    parser.add_argument("--loop", choices=["callgrind", "time"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loop:
        loop(args.filings, 20, args.loop)
        return
    env = {**os.environ, **ENV}
    Path(ENV["SATUPINTU_VAULT_DIR"]).mkdir(parents=True, exist_ok=True)
    if args.fresh or not database_exists():
        from servers import recreate_database

        print("creating the database (migrate, load_profile) …", flush=True)
        recreate_database(env)
    else:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    print(f"filing_instructions: {sys.executable} ({sys.version.split()[0]})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
                        sys.executable, __file__, "--loop", "callgrind", "--filings", str(args.filings)],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        totals = [int(line.split()[1]) for f in Path(tmp).glob("callgrind.out.*")
                  for line in f.read_text().splitlines() if line.startswith("totals:")]
    print(f"  instructions per filing (callgrind, {args.filings} filings): {max(totals) / args.filings / 1e6:.2f} M")
    if args.timed:
        timed = subprocess.run([sys.executable, __file__, "--loop", "time", "--filings", str(args.timed)],
                               cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        figures = json.loads(timed.stdout.strip().splitlines()[-1])
        print(f"  CPU per filing ({args.timed} filings, uninstrumented): {figures['cpu_ms']:.2f} ms "
              f"(wall {figures['wall_ms']:.2f} ms, the database's time included)")


if __name__ == "__main__":
    main()
