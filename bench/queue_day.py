#!/usr/bin/env python
"""Benchmark: a busy MPP day through the HTTP API, on PostgreSQL, with several server processes.

2,000 visitors over the 26 tenants of the MPP Pekanbaru profile (Disdukcapil alone 900), taken
at kiosks through `POST /api/v1/queue/tickets`, then served by 40 counters calling
`call-next` → `start` → `finish` at once. A hall display listens to the server-sent events of a
*different* server process than the ones the counters call. Reports p50/p99 latency of issue and
call, the delay from a call request to its event on the display (target p99 < 1 s), and
duplicates / lost tickets (must be 0).

    .venv/bin/python bench/queue_day.py                    # 3 granian processes, 2,000 visitors
    .venv/bin/python bench/queue_day.py --visitors 500 --processes 2

Everything talks to 127.0.0.1 only; the database is $BENCH_PG_URL
(default postgres://postgres@127.0.0.1:5432/satupintu_qbench), dropped and created again.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

from servers import recreate_database, start_servers, stop_servers  # noqa: E402  (bench/servers.py)

PASSWORD = "bench-Sandi-2026"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def request(method, url, body=None, token=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = json.loads(resp.read() or b"null")
            status = resp.status
    except urllib.error.HTTPError as exc:
        payload, status = json.loads(exc.read() or b"null"), exc.code
    return status, payload, (time.perf_counter() - started) * 1000, started


def setup_database(env):
    recreate_database(env)
    script = (
        "from satupintu.catalog.models import Counter\n"
        "from satupintu.core.permissions import SystemActor\n"
        "from satupintu.identity.services import officer_create\n"
        "from satupintu.queueing.models import QueueGroup\n"
        "import json\n"
        "out = []\n"
        "counters = list(Counter.objects.filter(is_active=True).select_related('agency').order_by('code'))\n"
        "by_agency = {}\n"
        "for c in counters: by_agency.setdefault(c.agency_id, []).append(c)\n"
        "for agency_id, cs in by_agency.items():\n"
        "    g = QueueGroup.objects.get(agency_id=agency_id)\n"
        "    u = officer_create(actor=SystemActor('bench'), email=f'fo.{g.prefix.lower()}@bench.test', full_name='FO',"
        f" role='front_office', password='{PASSWORD}', agency=cs[0].agency)\n"
        "    for c in cs: out.append({'counter': c.code, 'group': g.prefix, 'email': u.email})\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([PY, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def display_listener(url, events, stop):
    """Reads the SSE stream of one process; reconnects like a browser, resuming from the last id."""
    last_id, seen = None, set()
    while not stop.is_set():
        req = urllib.request.Request(url + "/antrian/layar/events/")
        if last_id:
            req.add_header("Last-Event-ID", last_id)
        try:
            with urllib.request.urlopen(req, timeout=40) as resp:
                kind = data = None
                for raw in resp:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("id: "):
                        last_id = line[4:]
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        data = json.loads(line[6:])
                    elif line == "" and kind == "call" and data:
                        if data["key"] not in seen:  # as the display page does: each call once
                            seen.add(data["key"])
                            events.append((time.perf_counter(), data["display"], data["recall"]))
                        kind = data = None
                    if stop.is_set():
                        return
        except OSError:
            time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=2000)
    parser.add_argument("--counters", type=int, default=40)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--service-seconds", type=float, default=1.0,
                        help="time a counter spends with each visitor (0 = call as fast as the server answers)")
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/satupintu_qbench"),
           "DEBUG": "false", "SECRET_KEY": "bench-only-secret-key-0123456789abcdef", "ALLOWED_HOSTS": "127.0.0.1",
           "DJANGO_SETTINGS_MODULE": "satupintu.config.settings", "LOG_LEVEL": "WARNING"}
    print(f"queue_day: {args.visitors:,} visitors, {args.counters} counters, {args.processes} server processes, PostgreSQL"
          f" (a day compressed: each visitor served in ~{args.service_seconds:g} s)")
    seats = setup_database(env)
    disdukcapil = [s for s in seats if s["group"] == "B"]
    others = [s for s in seats if s["group"] != "B"]
    chosen = (disdukcapil + others)[: args.counters]
    groups = sorted({s["group"] for s in seats})
    procs, urls = start_servers(env, args.processes, args.port, threads=24,
                                ready_path="/api/v1/calendar/holidays?year=2026")
    try:
        counter_urls, display_url = (urls[:-1] or urls), urls[-1]
        # -- kiosks: 2,000 visitors, Disdukcapil 45 % (900 of 2,000) -----------------------------
        rng = random.Random(1)
        plan = ["B" if i < args.visitors * 0.45 else rng.choice([g for g in groups if g != "B"]) for i in range(args.visitors)]
        rng.shuffle(plan)
        issue_ms, issued = [], []
        lock = threading.Lock()

        def issue(i):
            status, body, ms, _t = request("POST", f"{counter_urls[i % len(counter_urls)]}/api/v1/queue/tickets",
                                           {"group": plan[i], "priority": "lansia" if i % 17 == 0 else ""})
            with lock:
                issue_ms.append(ms)
                if status == 201:
                    issued.append(body["display"])
        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(issue, range(args.visitors)))
        issue_seconds = time.perf_counter() - t0

        # -- display on another process, then 40 counters at once ------------------------------
        events, stop = [], threading.Event()
        listener = threading.Thread(target=display_listener, args=(display_url, events, stop), daemon=True)
        listener.start()
        time.sleep(1.0)
        tokens = {}
        for email in {s["email"] for s in chosen}:
            tokens[email] = request("POST", f"{urls[0]}/api/v1/auth/login", {"username": email, "password": PASSWORD})[1]["token"]
        call_ms, calls, call_sent, call_answered = [], [], {}, {}
        errors = []

        def serve(k):
            seat, base = chosen[k], counter_urls[k % len(counter_urls)]
            rng_local = random.Random(k)
            token = tokens[seat["email"]]
            request("POST", f"{base}/api/v1/queue/counters/{seat['counter']}/open", {"groups": [seat["group"]]}, token)
            while True:
                status, body, ms, sent = request("POST", f"{base}/api/v1/queue/counters/{seat['counter']}/call-next", token=token)
                if status == 404:
                    return
                if status != 200:
                    errors.append((status, body))
                    return
                with lock:
                    call_ms.append(ms)
                    calls.append(body["display"])
                    call_sent[body["display"]] = sent
                    call_answered[body["display"]] = sent + ms / 1000
                request("POST", f"{base}/api/v1/queue/tickets/{body['code']}/start", token=token)
                if args.service_seconds:
                    time.sleep(rng_local.uniform(0.5, 1.5) * args.service_seconds)
                request("POST", f"{base}/api/v1/queue/tickets/{body['code']}/finish", token=token)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(chosen)) as pool:
            list(pool.map(serve, range(len(chosen))))
        serve_seconds = time.perf_counter() - t0
        time.sleep(1.5)
        stop.set()
    finally:
        stop_servers(procs)

    served_groups = {s["group"] for s in chosen}
    expected = [d for d in issued if d[0] in served_groups]
    delays = [(t - call_sent[d]) * 1000 for t, d, recall in events if recall == 0 and d in call_sent]
    after_answer = [(t - call_answered[d]) * 1000 for t, d, recall in events if recall == 0 and d in call_answered]
    duplicates = len(calls) - len(set(calls))
    lost = len(set(expected) - set(calls))
    print(f"  issue      {len(issued):>5} tickets in {issue_seconds:5.1f} s   p50 {statistics.median(issue_ms):6.1f} ms  p99 {pct(issue_ms, 99):6.1f} ms")
    print(f"  call-next  {len(calls):>5} calls   in {serve_seconds:5.1f} s   p50 {statistics.median(call_ms):6.1f} ms  p99 {pct(call_ms, 99):6.1f} ms"
          f"   ({len(calls) / serve_seconds:.1f} calls/s; {len(chosen)} counters on {len(counter_urls)} processes,"
          f" {args.service_seconds:g} s per visitor)")
    print(f"  display    {len(delays):>5} events on another process: delay from the click p50 {statistics.median(delays):6.1f} ms  p99 {pct(delays, 99):6.1f} ms  (target p99 < 1000 ms)")
    print(f"             measured from the officer's answer instead: p50 {statistics.median(after_answer):6.1f} ms"
          f"  p99 {pct(after_answer, 99):6.1f} ms (negative: the display showed it before the panel did)")
    print(f"  display    {len(set(calls) - {d for _t, d, _r in events})} calls never reached the display")
    print(f"  duplicates {duplicates}   lost {lost}   (tickets of groups with an open counter: {len(expected)}; errors: {len(errors)})")
    if errors:
        print("  first errors:", errors[:3])


if __name__ == "__main__":
    main()
