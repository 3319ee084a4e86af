#!/usr/bin/env python
"""Benchmark: does the audit chain serialise writes? On PostgreSQL, several worker processes
run small write transactions (a submission-like insert) for a fixed time:

  none    the insert alone
  sealed  the insert + `audit.record()` as built (unsealed insert, no lock; sealed after commit)
  cron    the insert + `audit.record()` with the after-commit seal turned off (cron seals)
  inline  the insert + the old inline chaining (head row locked until commit), rebuilt here only

and prints transactions per second of each and the ratios; the sealed chain is verified at the end.

    .venv/bin/python bench/audit_chain.py                      # 8 workers, 10 s per scenario
    .venv/bin/python bench/audit_chain.py --workers 4 --seconds 5

The database is $DATABASE_URL (default postgres://postgres@127.0.0.1:5432/satupintu_bench_audit),
dropped and created again.
"""

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from servers import fresh_database  # noqa: E402  (bench/servers.py)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/satupintu_bench_audit"
SCENARIOS = ("none", "sealed", "cron", "inline")
PAYLOAD = {"service": "izin-usaha-mikro", "agency": "dpmptsp", "fields": {"nama_usaha": "Warung Sate Padang",
           "alamat": "Jl. Sudirman No. 12, Pekanbaru", "modal": 25_000_000}, "documents": ["ktp", "npwp", "foto"]}


def setup_database(url: str) -> None:
    import psycopg

    fresh_database(url)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_submission (id bigserial PRIMARY KEY, uuid uuid NOT NULL UNIQUE,"
            " payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "satupintu.config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def inline_record(*, actor, action, object_type, object_id, changes):
    """The chaining as it was before: lock the head inside the writer's transaction, link inline."""
    from django.utils import timezone

    from satupintu.core import audit
    from satupintu.core.models import AuditChainHead, AuditEntry

    changes = audit.json.loads(audit.canonical(changes))
    digest = audit._sha(audit.canonical(changes))
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    at, seq, label = timezone.now(), head.seq + 1, audit.actor_label(actor)
    h = audit.entry_hash(seq=seq, at=at, actor_id=None, actor_label=label, action=action, object_type=object_type,
                         object_id=object_id, digest=digest, prev_hash=head.hash)
    AuditEntry.objects.create(seq=seq, at=at, actor_id=None, actor_label=label, action=action, object_type=object_type,
                              object_id=str(object_id), changes=changes, digest=digest, prev_hash=head.hash, hash=h)
    head.seq, head.hash = seq, h
    head.save(update_fields=["seq", "hash"])


def submission_model():
    """The bench table as an (unmanaged) model, so the insert costs what a service's ORM insert does."""
    from django.db import models

    class BenchSubmission(models.Model):
        uuid = models.UUIDField(unique=True)
        payload = models.JSONField()
        created_at = models.DateTimeField(auto_now_add=True)

        class Meta:
            app_label = "core"
            db_table = "bench_submission"
            managed = False

    return BenchSubmission


def worker(url, scenario, seconds, ready, start, results):
    if scenario == "cron":
        os.environ["AUDIT_SEAL_ON_COMMIT"] = "0"
    django_setup(url)
    from django.db import connection, transaction

    from satupintu.core import audit
    from satupintu.core.permissions import SystemActor

    actor = SystemActor("bench")
    Submission = submission_model()
    connection.ensure_connection()
    ready.release()
    start.wait()
    deadline = time.perf_counter() + seconds
    done, latencies = 0, []
    while (t0 := time.perf_counter()) < deadline:
        key = uuid.uuid4()
        with transaction.atomic():
            row = Submission.objects.create(uuid=key, payload=PAYLOAD)
            kwargs = dict(actor=actor, action="bench.submitted", object_type="bench.submission", object_id=key,
                          changes={"id": row.pk, "service": PAYLOAD["service"]})
            if scenario in ("sealed", "cron"):
                audit.record(**kwargs)  # sealed by its after-commit callback, outside the lock-free write
            elif scenario == "inline":
                inline_record(**kwargs)
        done += 1
        latencies.append(time.perf_counter() - t0)
    results.put((done, latencies))
    connection.close()


def run(url, scenario, workers, seconds):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE bench_submission, core_auditentry, core_auditchainhead RESTART IDENTITY")
    ctx = mp.get_context("spawn")
    ready, start, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, scenario, seconds, ready, start, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    began = time.perf_counter()
    start.set()
    outcomes = [results.get() for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    total = sum(n for n, _ in outcomes)
    lat = sorted(x for _, ls in outcomes for x in ls)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000 if lat else float("nan")
    return {"tx": total, "tps": total / elapsed, "p50": statistics.median(lat) * 1000 if lat else float("nan"), "p99": p99}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the three scenarios, report the best round")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith("postgres"):
        sys.exit("bench/audit_chain.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    setup_database(url)
    best = {}
    for r in range(args.rounds):
        for scenario in SCENARIOS:
            res = run(url, scenario, args.workers, args.seconds)
            if scenario == "sealed":
                django_setup(url)
                from satupintu.core import audit

                res["pending_after"] = audit.pending_count()
                res["sealed_by_cron"] = audit.seal_all()
                check = audit.verify()
                res["verify"] = f"ok ({check.checked} sealed)" if check.ok else f"BROKEN at #{check.broken_seq}"
            if scenario not in best or res["tps"] > best[scenario]["tps"]:
                best[scenario] = res
            print(f"round {r + 1} {scenario:6s} {res['tps']:8.1f} tx/s", file=sys.stderr)
    print(f"\n{args.workers} workers x {args.seconds:g} s, PostgreSQL, best of {args.rounds} round(s)")
    print(f"{'scenario':28s} {'tx':>7s} {'tx/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s}")
    labels = {"none": "insert, no audit", "sealed": "insert + audit (as built)",
              "cron": "insert + audit, cron seals", "inline": "insert + old inline chain"}
    for s in SCENARIOS:
        r = best[s]
        print(f"{labels[s]:28s} {r['tx']:7d} {r['tps']:8.1f} {r['p50']:7.2f} {r['p99']:7.2f}")
    s, i, n, c = best["sealed"]["tps"], best["inline"]["tps"], best["none"]["tps"], best["cron"]["tps"]
    print(f"as built / no audit: {s / n:.2f}   old inline / no audit: {i / n:.2f}   as built / old inline: {s / i:.2f}"
          f"   cron-sealed / no audit: {c / n:.2f}")
    print(f"sealed chain: {best['sealed']['verify']}; left pending after the run: {best['sealed']['pending_after']} "
          f"(sealed afterwards as cron would: {best['sealed']['sealed_by_cron']})")


if __name__ == "__main__":
    main()
