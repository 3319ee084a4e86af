#!/usr/bin/env python
"""Benchmark: filing applications over HTTP next to 1,000,000 stored ones, and the officer inbox.

On PostgreSQL, with 1,000,000 applications (and their ~5,000,000 workflow stage tasks) seeded by
set-based SQL over the 173 services of the MPP Pekanbaru profile, one run reports:

- the throughput of a trivial endpoint of the same servers (`GET /api/v1/health`, no database);
- submission throughput: `POST /api/v1/applications` with `submit: true` (PBG, 6 documents from
  the vault, 7 workflow stages = 9 tasks, a unique Idempotency-Key each), C client threads
  round-robin over N granian processes for a fixed time; p50/p95/p99 and errors by status;
- the rate of the same database writes issued directly with psycopg from C threads, one
  connection each (same tables, rows, row locks and transaction boundaries, and the audit seals:
  one per seal interval per server process): the database's own limit for that work. Target: submission
  >= 25 % of it. The writes of one real submission are captured in-process and printed next to
  the direct ones;
- where the CPU goes in both runs (Linux): milliseconds of CPU per submission of the servers,
  the PostgreSQL backends and the client, and how many of the machine's cores were busy;
- the audit chain: entries written and sealed during the run, how many were left pending, and
  `manage.py audit_verify`;
- the officer inbox (`/kantor/`, session login through `/akun/masuk/`) p50/p95 (target < 100 ms),
  `GET /api/v1/inbox` p50/p95, and the SQL queries per inbox page for an officer with thousands
  of waiting stages and for one whose inbox is nearly empty (must be equal: constant in data size).

    .venv/bin/python bench/submit_and_inbox.py                     # seed 1,000,000, 3 processes, 16 clients, 3 rounds of 20 s
    .venv/bin/python bench/submit_and_inbox.py --reuse             # keep the seeded database (>= --applications)
    .venv/bin/python bench/submit_and_inbox.py --applications 100000 --seconds 10 --clients 8

Everything talks to 127.0.0.1 only. The database is $BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/satupintu_bench_cases), dropped and created again unless
--reuse finds it already seeded; vault files go to --data-dir (default var/bench-cases).
"""

import argparse
import datetime
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable

from servers import recreate_database, start_servers, stop_servers  # noqa: E402  (bench/servers.py)
PASSWORD = "bench-Sandi-2026"
SERVICE = "dpmptsp/pbg"
CITIZENS = 16
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
OFFICERS = [  # (email, role, agency slug)
    ("fo.dpmptsp@bench.test", "front_office", "dpmptsp"),
    ("verifikator.dpmptsp@bench.test", "verifier", "dpmptsp"),
    ("kepala.dpmptsp@bench.test", "head", "dpmptsp"),
    ("teknis.pupr@bench.test", "technical_reviewer", "dinas-pupr"),
]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def ms_summary(values) -> str:
    if not values:
        return "no samples"
    return f"p50 {pct(values, 50):6.1f} ms  p95 {pct(values, 95):6.1f} ms  p99 {pct(values, 99):6.1f} ms"


# ============================================================================ in-process workers
# Each runs in a subprocess with Django set up against the bench database and prints one JSON line.

def _django():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "satupintu.config.settings")
    django.setup()


def citizen_nik(i: int) -> str:
    """A valid Pekanbaru NIK: 1471 + district 01..15 + DDMMYY (women +40 on the day) + serial."""
    district = 1 + i % 15
    day = 1 + i % 28 + (40 if i % 2 else 0)
    month = 1 + i % 12
    return f"1471{district:02d}{day:02d}{month:02d}{85 + i % 15:02d}{1000 + i:04d}"


def worker_prepare(target: int) -> dict:
    """Bench accounts and vault documents through the product's services, then the seed."""
    _django()
    from django.db import connection

    from satupintu.cases.models import Application
    from satupintu.catalog.models import Agency
    from satupintu.catalog.selectors import service_get
    from satupintu.core.permissions import SystemActor
    from satupintu.identity.models import User
    from satupintu.identity.services import citizen_register, officer_create
    from satupintu.vault.models import Document
    from satupintu.vault.services import document_upload

    system = SystemActor("bench")
    agencies = {a.slug: a for a in Agency.objects.all()}
    for email, role, slug in OFFICERS:
        if not User.objects.filter(email=email).exists():
            officer_create(actor=system, email=email, full_name=f"Petugas {role} {slug} (bench)", role=role,
                           password=PASSWORD, agency=agencies[slug])
    service = service_get(actor=system, key="pbg", agency_slug="dpmptsp")
    mandatory = [r for r in service.current_version.requirements.select_related("document_type") if r.mandatory]
    citizens = []
    for i in range(CITIZENS):
        email = f"warga{i:02d}@bench.test"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = citizen_register(actor=None, full_name=f"Warga Bench {i:02d}", password=PASSWORD,
                                    nik=citizen_nik(i), email=email)
        docs = {}
        for req in mandatory:
            doc = Document.objects.filter(owner=user, document_type=req.document_type).first()
            if doc is None:
                doc = document_upload(actor=user, owner=user, document_type=req.document_type,
                                      name=f"{req.document_type.code}.pdf", data=PDF)
            docs[str(req.id)] = str(doc.uuid)
        citizens.append({"email": email, "documents": docs})
    seeded_seconds = None
    existing = Application.objects.count()
    if existing < target:
        if existing:
            raise SystemExit(f"the database holds {existing:,} applications (< {target:,}); run without --reuse")
        seeded_seconds = seed(connection, target)
    else:  # earlier runs added applications, notifications, audit entries and tasks: fresh planner
        # statistics for every table, as autovacuum keeps them (a server may run with it off)
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    # the officer with the emptiest inbox of the measured officer's role (a page may show more to
    # one role than to another: the front office also sees its walk-in drafts), in another agency:
    # fewest active stages, at least one
    _email, role, slug = OFFICERS[0]
    with connection.cursor() as cur:
        cur.execute("""
            SELECT t.agency_id, t.role, count(*) FROM cases_stagetask t JOIN cases_application a ON a.id = t.application_id
            WHERE t.status = 'active' AND a.status IN ('submitted', 'in_process') AND t.role = %s AND t.agency_id <> %s
            GROUP BY 1, 2 ORDER BY 3, 1, 2 LIMIT 1""", [role, agencies[slug].pk])
        quiet_agency, quiet_role, quiet_count = cur.fetchone()
    quiet_email = "sepi@bench.test"
    quiet = User.objects.filter(email=quiet_email).first()
    if quiet is None:
        quiet = officer_create(actor=system, email=quiet_email, full_name="Petugas kotak masuk sepi (bench)",
                               role=quiet_role, password=PASSWORD, agency=Agency.objects.get(pk=quiet_agency))
    elif (quiet.agency_id, quiet.role) != (quiet_agency, quiet_role):
        quiet.agency_id, quiet.role = quiet_agency, quiet_role
        quiet.save(update_fields=["agency", "role"])
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cases_application")
        apps = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_stagetask")
        tasks = cur.fetchone()[0]
    return {"citizens": citizens, "officer": OFFICERS[0][0], "quiet": quiet_email, "quiet_role": quiet_role,
            "applications": apps, "tasks": tasks, "seed_seconds": seeded_seconds}


SEED_SERVICES = """
CREATE TEMP TABLE bench_svc AS
SELECT (row_number() OVER (ORDER BY s.id) - 1)::int AS idx, s.id AS service_id, v.id AS version_id, s.agency_id,
       g.site_id, v.workflow, v.completion_days, jsonb_array_length(v.workflow) AS nstages,
       (v.workflow -> 0 ->> 'kind') = 'completeness_check' AS checks_first
FROM catalog_service s JOIN catalog_serviceversion v ON v.id = s.current_version_id JOIN catalog_agency g ON g.id = s.agency_id
WHERE s.is_active AND jsonb_array_length(v.workflow) > 0;
CREATE UNIQUE INDEX ON bench_svc (idx);
ANALYZE bench_svc;
"""

# One application per n. Buckets of (n*7919) mod 1000: 0-39 open (4 %), 40-49 returned (1 %),
# 50-149 rejected (10 %), the rest approved (85 %). Open and returned ones were filed in the last
# 40 days; the others over the last ~3 years. The current stage of an open, returned or rejected
# application is cur = (n/7) mod nstages; the SQL of the tasks derives it the same way.
SEED_APPLICATIONS = """
INSERT INTO cases_application (id, uuid, tracking_number, channel, applicant_type, business_name, nib, npwp, notes,
    applicant_birth_date, applicant_nik_last4, status, submitted_at, sla_started_on, due_on, decided_at, return_reason,
    reject_reason, revision, idempotency_key, idempotency_fingerprint, created_at, updated_at, agency_id, applicant_id,
    filed_by_id, service_id, ticket_id, version_id)
SELECT x.n, gen_random_uuid(), 'B' || lpad(upper(to_hex(x.n)), 9, '0'), 'online', 'perorangan', '', '', '', '',
    p.birth_date, p.last4, x.status, x.submitted_at,
    CASE WHEN x.status = 'submitted' THEN NULL ELSE x.submitted_at::date END,
    CASE WHEN x.status IN ('submitted', 'returned') THEN NULL
         WHEN x.status = 'in_process' THEN current_date + ((x.n * 31) %% 41 - 12)::int
         ELSE x.submitted_at::date + (s.completion_days * 7 / 5) END,
    CASE WHEN x.status IN ('approved', 'rejected') THEN x.submitted_at + make_interval(days => greatest(1, s.completion_days)) END,
    CASE WHEN x.status = 'returned' THEN 'Dokumen belum lengkap (benchmark).' ELSE '' END,
    CASE WHEN x.status = 'rejected' THEN 'Tidak memenuhi persyaratan teknis (benchmark).' ELSE '' END,
    2 + s.nstages, NULL, '', x.submitted_at - interval '10 minutes',
    COALESCE(x.submitted_at + make_interval(days => greatest(1, s.completion_days)), x.submitted_at),
    s.agency_id, p.user_id, p.user_id, s.service_id, NULL, s.version_id
FROM (
    SELECT n, b, svc, cur,
           CASE WHEN b < 40 THEN (CASE WHEN cur = 0 AND checks_first THEN 'submitted' ELSE 'in_process' END)
                WHEN b < 50 THEN 'returned' WHEN b < 150 THEN 'rejected' ELSE 'approved' END AS status,
           CASE WHEN b < 50 THEN now() - make_interval(mins => ((n * 37) %% (40 * 1440))::int)
                ELSE now() - interval '40 days' - make_interval(secs => ((%(total)s - n) * 90)::float8) END AS submitted_at
    FROM (SELECT g.n, (g.n * 7919) %% 1000 AS b, s0.idx AS svc, ((g.n / 7) %% s0.nstages)::int AS cur, s0.checks_first
          FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) g(n)
          JOIN bench_svc s0 ON s0.idx = (g.n * 40503) %% %(nsvc)s) q
) x
JOIN bench_svc s ON s.idx = x.svc
JOIN bench_applicant p ON p.idx = x.n %% %(napplicants)s
"""

# Every stage of the application's workflow, one task per agency of the stage.
SEED_TASKS = """
INSERT INTO cases_stagetask (stage_key, position, kind, name, after, role, sla_days, status, activated_on, due_on,
    claimed_at, decided_at, note, escalated_at, agency_id, application_id, claimed_by_id, decided_by_id, report_id)
SELECT st.value ->> 'key', st.pos - 1, st.value ->> 'kind', st.value ->> 'name', st.value -> 'after', st.value ->> 'role',
    (st.value ->> 'sla_days')::int, t.status,
    CASE WHEN t.status IN ('waiting', 'cancelled') THEN NULL
         WHEN t.status = 'active' THEN current_date - ((a.id * 13) %% 6)::int
         ELSE a.submitted_at::date + (st.pos - 1)::int * 2 END,
    CASE WHEN t.status IN ('waiting', 'cancelled') THEN NULL
         WHEN t.status = 'active' AND a.status = 'returned' THEN NULL
         WHEN t.status = 'active' THEN current_date + ((a.id * 31) %% 30 - 10)::int
         ELSE a.submitted_at::date + (st.pos - 1)::int * 2 + (st.value ->> 'sla_days')::int END,
    NULL,
    CASE WHEN t.status IN ('approved', 'rejected') THEN a.submitted_at + make_interval(days => (st.pos - 1)::int * 2 + 1) END,
    '', NULL, g.id, a.id, NULL, NULL, NULL
FROM cases_application a
JOIN bench_svc s ON s.version_id = a.version_id
CROSS JOIN LATERAL jsonb_array_elements(s.workflow) WITH ORDINALITY AS st(value, pos)
CROSS JOIN LATERAL jsonb_array_elements_text(st.value -> 'agencies') AS ag(slug)
JOIN catalog_agency g ON g.slug = ag.slug AND g.site_id = s.site_id
CROSS JOIN LATERAL (SELECT CASE
    WHEN a.status = 'approved' THEN 'approved'
    WHEN st.pos - 1 < (a.id / 7) %% s.nstages THEN 'approved'
    WHEN st.pos - 1 = (a.id / 7) %% s.nstages THEN (CASE WHEN a.status = 'rejected' THEN 'rejected' ELSE 'active' END)
    WHEN a.status = 'rejected' THEN 'cancelled'
    ELSE 'waiting' END AS status) t
WHERE a.id BETWEEN %(lo)s AND %(hi)s
"""


def seed(connection, total: int, chunk: int = 100_000) -> float:
    """1,000,000 applications and their tasks with INSERT … SELECT generate_series, in chunks."""
    from satupintu.identity.models import User

    started = time.perf_counter()
    applicants = list(User.objects.filter(email__endswith="@bench.test", citizen__isnull=False)
                      .select_related("citizen").order_by("pk"))
    rows = [(i, u.pk, u.citizen.facts.birth_date, u.citizen.nik[-4:]) for i, u in enumerate(applicants)]
    with connection.cursor() as cur:
        cur.execute(SEED_SERVICES)
        cur.execute("SELECT count(*) FROM bench_svc")
        nsvc = cur.fetchone()[0]
        cur.execute("CREATE TEMP TABLE bench_applicant (idx int PRIMARY KEY, user_id bigint, birth_date date, last4 text)")
        cur.executemany("INSERT INTO bench_applicant VALUES (%s, %s, %s, %s)", rows)
        for lo in range(1, total + 1, chunk):
            hi = min(total, lo + chunk - 1)
            t0 = time.perf_counter()
            params = {"lo": lo, "hi": hi, "total": total, "nsvc": nsvc, "napplicants": len(rows)}
            cur.execute(SEED_APPLICATIONS, params)
            cur.execute(SEED_TASKS, params)
            print(f"    seeded applications {lo:>9,}–{hi:>9,} in {time.perf_counter() - t0:5.1f} s", file=sys.stderr, flush=True)
        cur.execute("INSERT INTO cases_pause (application_id, started_on, ended_on) "
                    "SELECT id, current_date - ((id * 13) % 6)::int, NULL FROM cases_application WHERE status = 'returned'")
        cur.execute("SELECT setval(pg_get_serial_sequence('cases_application', 'id'), (SELECT max(id) FROM cases_application))")
        cur.execute("DROP TABLE bench_svc; DROP TABLE bench_applicant")
    connection.commit() if not connection.get_autocommit() else None
    with connection.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute("VACUUM ANALYZE")  # as autovacuum would leave a live database
        print(f"    VACUUM ANALYZE in {time.perf_counter() - t0:5.1f} s", file=sys.stderr, flush=True)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------- capture

WRITE_RE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
LOCK_RE = re.compile(r'^\s*SELECT\b.*\bFROM\s+"?(\w+)"?.*\bFOR\s+UPDATE(\s+SKIP\s+LOCKED)?', re.I | re.S)


def classify(sql: str, params_rows: int = 1) -> str | None:
    """'INSERT cases_stagetask', 'UPDATE cases_application', 'LOCK cases_application' … or None for a read."""
    text = sql.strip()
    head = text.split(None, 1)[0].upper() if text else ""
    if head in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return head
    m = WRITE_RE.match(text)
    if m:
        return f"{m.group(1).split()[0].upper()} {m.group(2)}"
    m = LOCK_RE.match(text)
    if m:
        return f"LOCK {m.group(1)}" + (" SKIP LOCKED" if m.group(2) else "")
    return None


def values_rows(sql: str) -> int:
    """How many rows a multi-row INSERT … VALUES (…), (…) carries."""
    m = re.search(r"\bVALUES\s*(.*?)(\bRETURNING\b|\bON CONFLICT\b|$)", sql, re.I | re.S)
    if not m:
        return 1
    depth, rows = 0, 0
    for ch in m.group(1):
        if ch == "(":
            depth += 1
            if depth == 1:
                rows += 1
        elif ch == ")":
            depth -= 1
    return max(rows, 1)


def summarise(events: list[tuple[str, int]]) -> list[str]:
    """Group consecutive statements per transaction: ['tx1: LOCK cases_application ×1', 'INSERT x ×1 (9 rows)', …]."""
    out = []
    for kind, rows in events:
        if out and out[-1][0] == kind:
            out[-1][1] += 1
            out[-1][2] += rows
        else:
            out.append([kind, 1, rows])
    lines = []
    for kind, n, rows in out:
        if kind in ("COMMIT", "BEGIN"):
            lines.append(f"-- {kind}")
        else:
            lines.append(f"{kind} ×{n}" + (f" ({rows} rows)" if rows != n else ""))
    return lines


def worker_capture(citizen: dict) -> dict:
    """One real submission through the full Django stack (test client, same view and services),
    with every statement captured: its writes, locks and transaction boundaries."""
    _django()
    from django.db import connection
    from django.test import Client

    from satupintu.identity.models import User
    from satupintu.identity.services import api_token_issue

    user = User.objects.get(email=citizen["email"])
    _token, key = api_token_issue(actor=user)
    events, reads, statements = [], [], []

    def wrapper(execute, sql, params, many, context):
        kind = classify(sql)
        rows = 1
        if kind and kind.startswith("INSERT"):
            rows = len(params[0]) if "UNNEST" in sql else len(params) if many else values_rows(sql)
        if kind is None:
            reads.append(sql)
        elif kind in ("SAVEPOINT", "RELEASE"):
            pass  # nested atomic blocks: not transaction boundaries
        else:
            events.append((kind + ("" if context["connection"].in_atomic_block else " (autocommit)"), rows))
        statements.append(sql[:160].replace("\n", " "))
        return execute(sql, params, many, context)

    # transaction boundaries: Django begins by turning autocommit off and commits via the
    # connection, not via SQL: mark them from the connection's hooks
    orig_set_autocommit, orig_commit = connection._set_autocommit, connection._commit

    def set_autocommit(value):
        if not value:
            events.append(("BEGIN", 1))
        return orig_set_autocommit(value)

    def commit():
        events.append(("COMMIT", 1))
        return orig_commit()

    connection._set_autocommit, connection._commit = set_autocommit, commit
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"service": SERVICE, "submit": True, "documents": citizen["documents"]}
    with connection.execute_wrapper(wrapper):
        r = client.post("/api/v1/applications", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="bench-capture-" + key[3:15])
    connection._set_autocommit, connection._commit = orig_set_autocommit, orig_commit
    if r.status_code != 201:
        raise SystemExit(f"capture: submission answered {r.status_code}: {r.content[:500]!r}")
    tracking_number = r.json()["tracking_number"]
    # the process's first request also loads its copy of the catalogue: count the reads of the next one
    later = []
    with connection.execute_wrapper(lambda execute, sql, params, many, context: (
            later.append(sql) if classify(sql) is None else None, execute(sql, params, many, context))[1]):
        r = client.post("/api/v1/applications", body, content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY="bench-capture-next-" + key[3:15])
    if r.status_code != 201:
        raise SystemExit(f"capture: the second submission answered {r.status_code}: {r.content[:500]!r}")
    return {"events": events, "lines": summarise(events), "reads": len(reads), "later_reads": len(later),
            "statements": len(statements),
            "tracking_number": tracking_number}


# ---------------------------------------------------------------------------- query counts

def worker_counts(officer: str, quiet: str) -> dict:
    """SQL queries of the inbox page and API for a full inbox and a nearly empty one."""
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from satupintu.cases.models import StageTask
    from satupintu.identity.models import User

    out = {}
    for label, email in (("full", officer), ("quiet", quiet)):
        user = User.objects.get(email=email)
        client = Client()
        client.force_login(user)
        client.get("/kantor/")  # warm: session, calendar
        # the real number (the inbox itself stops counting at 1,000)
        row = {"waiting": StageTask.objects.filter(status="active", due_on__isnull=False, agency_id=user.agency_id,
                                                   role=user.role).count()}
        for name, url in (("page", "/kantor/"), ("page_overdue", "/kantor/?due=overdue"), ("api", "/api/v1/inbox")):
            with CaptureQueriesContext(connection) as ctx:
                r = client.get(url)
            assert r.status_code == 200, (url, r.status_code, r.content[:300])
            row[name] = len(ctx.captured_queries)
            if label == "full" and name == "page":
                out["page_sql"] = [q["sql"][:300] for q in ctx.captured_queries]
        out[label] = row
    return out


# ---------------------------------------------------------------------------- direct SQL

INSERT_APPLICATION = (
    "INSERT INTO cases_application (uuid, tracking_number, service_id, version_id, agency_id, applicant_id, filed_by_id, "
    "channel, ticket_id, applicant_type, business_name, nib, npwp, notes, applicant_birth_date, applicant_nik_last4, status, "
    "submitted_at, sla_started_on, due_on, decided_at, return_reason, reject_reason, revision, idempotency_key, "
    "idempotency_fingerprint, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'online', NULL, 'perorangan', "
    "'', '', '', '', %s, %s, 'submitted', now(), NULL, NULL, NULL, '', '', 1, %s, %s, now(), now()) RETURNING id")
INSERT_AUDIT = (
    "INSERT INTO core_auditentry (seq, at, actor_id, actor_label, action, object_type, object_id, changes, digest, prev_hash, "
    "hash) VALUES (NULL, now(), %s, %s, %s, 'cases.application', %s, %s, %s, NULL, NULL) RETURNING id")
INSERT_TASKS = (
    "INSERT INTO cases_stagetask (application_id, stage_key, position, kind, name, after, agency_id, role, sla_days, status, "
    "activated_on, due_on, claimed_by_id, claimed_at, decided_by_id, decided_at, note, report_id, escalated_at) "
    "SELECT * FROM UNNEST(%s::bigint[], %s::varchar[], %s::smallint[], %s::varchar[], %s::varchar[], %s::jsonb[], "
    "%s::bigint[], %s::varchar[], %s::smallint[], %s::varchar[], %s::date[], %s::date[], %s::bigint[], "
    "%s::timestamptz[], %s::bigint[], %s::timestamptz[], %s::text[], %s::bigint[], %s::timestamptz[]) RETURNING id")
INSERT_NOTIFICATIONS = (  # the applicant's and the officers' rows in one statement
    "INSERT INTO notify_notification (uuid, recipient_id, event, context, link, object_type, object_id, created_at, read_at, "
    "email_status, email_attempts, email_last_error, email_sent_at, email_due_at) VALUES {} RETURNING id")
NOTIFICATION_ROW = "(%s, %s, %s, %s, %s, 'cases.application', %s, now(), NULL, 'pending', 0, '', NULL, now())"
INSERT_TASK_RESULT = (
    "INSERT INTO django_tasks_database_dbtaskresult (id, status, enqueued_at, started_at, finished_at, args_kwargs, priority, "
    "task_path, worker_ids, queue_name, backend_name, run_after, return_value, exception_class_path, traceback) VALUES "
    "(%s, 'READY', now(), NULL, NULL, %s, 0, 'satupintu.notify.tasks.send_notification_emails', '[]', 'default', "
    "'default', '9999-01-01T00:00:00Z', NULL, '', '')")


def worker_direct(citizens: list[dict], clients: int, seconds: float, processes: int) -> dict:
    """The writes of one submission, issued with psycopg by `clients` threads (one connection
    each, autocommit off except where Django autocommits) for `seconds`: transactions/s, and
    the statement list of one submission for the side-by-side print."""
    _django()
    import uuid as uuidlib

    import psycopg
    from django.conf import settings
    from psycopg.types.json import Jsonb

    from satupintu.catalog.models import Agency
    from satupintu.catalog.selectors import service_get
    from satupintu.core import audit, ids
    from satupintu.core.permissions import SystemActor
    from satupintu.identity.models import User
    from satupintu.vault.models import Document

    db = settings.DATABASES["default"]
    dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} dbname={db['NAME']} user={db['USER']}"
    if db.get("PASSWORD"):
        dsn += f" password={db['PASSWORD']}"
    service = service_get(actor=SystemActor("bench"), key="pbg", agency_slug="dpmptsp")
    version = service.current_version
    stages = version.workflow
    agency_ids = {a.slug: a.pk for a in Agency.objects.filter(site_id=service.agency.site_id)}
    front_office = list(User.objects.filter(is_active=True, agency_id=service.agency_id, role=stages[0]["role"]))
    people = []
    for c in citizens:
        u = User.objects.select_related("citizen").get(email=c["email"])
        docs = dict(Document.objects.filter(uuid__in=[uuidlib.UUID(d) for d in c["documents"].values()]).values_list("uuid", "pk"))
        people.append({"id": u.pk, "label": audit.actor_label(u), "name": u.full_name, "birth": u.citizen.facts.birth_date,
                       "last4": u.citizen.nik[-4:],
                       "docs": [(int(r), docs[uuidlib.UUID(d)], d) for r, d in c["documents"].items()]})
    task_rows = [(position, st, slug) for position, st in enumerate(stages) for slug in st["agencies"]]

    def submission(conn, person, key, log=None):
        """One application filed as application_file files it: the same rows and transactions
        (the request's atomic block, with the savepoint around the application row that an
        Idempotency-Key asks for; then the one e-mail task enqueued in autocommit), in plain
        SQL. Sealing the audit chain is not part of a submission: `sealers` do it as the
        servers' processes do, once per SATUPINTU_AUDIT_SEAL_INTERVAL each."""
        cur = conn.cursor()

        def ex(sql, params=None):
            if log is not None:
                kind = classify(sql)
                if kind is not None:
                    rows = len(params[0]) if "UNNEST" in sql else values_rows(sql) if kind.startswith("INSERT") else 1
                    log.append((kind + ("" if conn.info.transaction_status else " (autocommit)"), rows))
            cur.execute(sql, params)
            return cur

        app_uuid = uuidlib.uuid4()
        code = ids.new_code(9)
        today = datetime.date.today()
        with conn.transaction():
            if log is not None:
                log.append(("BEGIN", 1))
            with conn.transaction():  # the savepoint around the application row
                app_id = ex(INSERT_APPLICATION, (app_uuid, code, service.pk, version.pk, service.agency_id, person["id"],
                                                 person["id"], person["birth"], person["last4"], key,
                                                 audit._sha(key))).fetchone()[0]
            docs = person["docs"]  # one multi-row INSERT
            ex("INSERT INTO cases_applicationdocument (application_id, requirement_id, document_id, attached_at) VALUES "
               + ", ".join(["(%s, %s, %s, now())"] * len(docs)) + " RETURNING id",
               [v for req_id, doc_id, _u in docs for v in (app_id, req_id, doc_id)])
            n = len(task_rows)  # the start stage is created running, with its deadline
            first = [not st.get("after") for _p, st, _s in task_rows]
            ex(INSERT_TASKS, (
                [app_id] * n, [st["key"] for _p, st, _s in task_rows], [p for p, _st, _s in task_rows],
                [st["kind"] for _p, st, _s in task_rows], [st["name"] for _p, st, _s in task_rows],
                [Jsonb(list(st.get("after", []))) for _p, st, _s in task_rows], [agency_ids[s] for _p, _st, s in task_rows],
                [st["role"] for _p, st, _s in task_rows], [st["sla_days"] for _p, st, _s in task_rows],
                ["active" if f else "waiting" for f in first],
                [today if f else None for f in first], [today if f else None for f in first],
                [None] * n, [None] * n, [None] * n, [None] * n, [""] * n, [None] * n, [None] * n,
            )).fetchall()
            changes = json.loads(audit.canonical({  # one audit entry for the filing
                "tracking_number": code, "version": version.number, "stages": [stages[0]["key"]], "service": service.slug,
                "channel": "online", "ticket": None, "documents": {str(r): u for r, _d, u in docs}}))
            ex(INSERT_AUDIT, (person["id"], person["label"], "application.submitted", str(app_uuid), Jsonb(changes),
                              audit._sha(audit.canonical(changes))))
            context = {"tracking_number": code, "service_name": version.name, "due_on": ""}
            rows = [(uuidlib.uuid4(), person["id"], "application.submitted", Jsonb(context), f"/permohonan/{app_uuid}/",
                     str(app_uuid))]
            rows += [(uuidlib.uuid4(), officer.pk, "application.stage_assigned",
                      Jsonb({**context, "applicant_name": person["name"], "stage_name": stages[0]["name"],
                             "agency_name": service.agency.short_name}), f"/kantor/permohonan/{app_uuid}/", str(app_uuid))
                     for officer in front_office]
            ex(INSERT_NOTIFICATIONS.format(", ".join([NOTIFICATION_ROW] * len(rows))), [v for row in rows for v in row])
        if log is not None:
            log.append(("COMMIT", 1))
        # after commit, as Django runs the on_commit callbacks: one task carrying every
        # notification's e-mail, INSERTed on its own
        ex(INSERT_TASK_RESULT, (uuidlib.uuid4(), Jsonb({"args": [[str(row[0]) for row in rows]], "kwargs": {}})))
        return app_id

    def seal(conn, log=None):
        """What one seal writes: lock the head (skipping a busy one), read the pending entries,
        link them in one UPDATE, move the head."""
        cur = conn.cursor()
        with conn.transaction():
            if log is not None:
                log.append(("BEGIN", 1))
                log.append(("LOCK core_auditchainhead SKIP LOCKED", 1))
            cur.execute("SELECT id, seq, hash FROM core_auditchainhead WHERE id = %s LIMIT 1 FOR UPDATE SKIP LOCKED", (1,))
            head = cur.fetchone()
            if head is None:
                return 0
            cur.execute("SET LOCAL synchronous_commit TO OFF")
            cur.execute("SELECT id, at, actor_id, actor_label, action, object_type, object_id, digest FROM core_auditentry "
                        "WHERE seq IS NULL ORDER BY id LIMIT 500")
            seq, prev, links = head[1], head[2], []
            for eid, at, actor_id, label, action, otype, oid, digest in cur.fetchall():
                seq += 1
                h = audit.entry_hash(seq=seq, at=at, actor_id=actor_id, actor_label=label, action=action,
                                     object_type=otype, object_id=oid, digest=digest, prev_hash=prev)
                links.append((eid, seq, prev, h))
                prev = h
            if links:
                rows = ", ".join(["(%s::bigint, %s::bigint, %s, %s)"] * len(links))
                cur.execute(f"UPDATE core_auditentry AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
                            f"FROM (VALUES {rows}) AS v(id, seq, prev_hash, hash) WHERE e.id = v.id",
                            [v for link in links for v in link])
                cur.execute("UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = %s", (seq, prev, 1))
                if log is not None:
                    log += [("UPDATE core_auditentry", 1), ("UPDATE core_auditchainhead", 1)]
        if log is not None:
            log.append(("COMMIT", 1))
        return len(links)

    def connect():
        return psycopg.connect(dsn, autocommit=True, options="-c timezone=UTC")

    log: list = []
    with connect() as conn:
        submission(conn, people[0], f"direct-probe-{time.time_ns()}", log)
        log.append(("-- a seal, once per interval per server process:", 1))
        seal(conn, log)
    done, errors, latencies, lock = [0], Counter(), [], threading.Lock()
    stop_at = time.perf_counter() + seconds
    interval = settings.SATUPINTU_AUDIT_SEAL_INTERVAL

    def sealer():
        with connect() as conn:
            while time.perf_counter() < stop_at:
                time.sleep(interval)
                seal(conn)

    def run(t):
        person = people[t % len(people)]
        with connect() as conn:
            k = 0
            while time.perf_counter() < stop_at:
                k += 1
                t0 = time.perf_counter()
                try:
                    submission(conn, person, f"direct-{t}-{k}-{time.time_ns()}")
                except psycopg.Error as exc:
                    with lock:
                        errors[type(exc).__name__] += 1
                    continue
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    done[0] += 1
                    latencies.append(ms)

    t0 = time.perf_counter()
    window = CpuWindow(seconds, "client")
    threads = [threading.Thread(target=run, args=(t,)) for t in range(clients)]
    threads += [threading.Thread(target=sealer) for _p in range(processes)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    return {"done": done[0], "seconds": elapsed, "rate": done[0] / elapsed, "errors": dict(errors),
            "p50": pct(latencies, 50), "p95": pct(latencies, 95), "lines": summarise(log),
            "cpu": window.per_item(done[0] / elapsed)}


# ---------------------------------------------------------------------------- CPU split

def _cpu_by_process(own_label: str) -> dict[int, tuple[str, float, int]]:
    """pid -> (group, CPU seconds so far, start time in clock ticks after boot) of the processes that do the work: PostgreSQL (the
    backends connected to the bench database and the server's own processes), the granian servers of this project, and this
    process (the load generator, or the direct-SQL client with its sealer threads). Linux /proc."""
    from urllib.parse import urlsplit

    db_name = urlsplit(os.environ.get("DATABASE_URL") or os.environ.get("BENCH_PG_URL")
                       or "postgres://x/satupintu_bench_cases").path.lstrip("/")
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        other_db = ("(" in cmd or "[local]" in cmd) and f" {db_name} " not in cmd  # another database's client
        group = ("postgres" if cmd.startswith("postgres:") and not other_db  # WAL writer, checkpointer … count too
                 else "servers" if "granian" in cmd and "satupintu.config.wsgi" in cmd
                 else own_label if int(pid) == os.getpid() else None)
        if group:
            out[int(pid)] = (group, (int(fields[11]) + int(fields[12])) / tick, int(fields[19]))
    return out


class CpuWindow:
    """CPU used by each group between `skip` seconds after start and `skip` seconds before
    `seconds` end, read from /proc by a thread every `every` seconds and summed per process: a
    process that ends inside the window (a PostgreSQL backend whose connection reached
    DB_CONN_MAX_AGE and was opened again) counts up to its last reading, and one that starts
    inside it counts in full."""

    def __init__(self, seconds: float, own_label: str, skip: float = 2.0, every: float = 0.25):
        self.every = every
        self.result: dict = {}
        self.span = max(1.0, seconds - 2 * skip)
        self.thread = threading.Thread(target=self._run, args=(own_label, skip), daemon=True)
        self.thread.start()

    def _run(self, own_label, skip):
        if not os.path.isdir("/proc"):
            return
        def snapshot():  # stamped at its middle: reading /proc takes a while under load
            start = time.perf_counter()
            cpu = _cpu_by_process(own_label)
            return cpu, (start + time.perf_counter()) / 2

        time.sleep(skip)
        previous, t0 = snapshot()
        boot_ticks = (time.clock_gettime(time.CLOCK_BOOTTIME)) * os.sysconf("SC_CLK_TCK")
        cpu: dict[str, float] = Counter()
        t1 = t0
        while t1 - t0 < self.span:
            time.sleep(self.every)
            current, t1 = snapshot()
            for pid, (group, seconds, started) in current.items():
                if pid in previous and previous[pid][2] == started:
                    cpu[group] += seconds - previous[pid][1]
                elif started >= boot_ticks:  # started inside the window: all of its CPU
                    cpu[group] += seconds
            previous = current
        self.result = {"wall": t1 - t0, "cpu": dict(cpu)}

    def per_item(self, rate: float) -> str:
        """'servers 21.0 ms, postgres 6.5 ms, … per item (1.92 cores busy)' at `rate` items/s."""
        self.thread.join()
        if not self.result or not rate:
            return "(no CPU figures: needs Linux /proc)"
        wall, cpu = self.result["wall"], self.result["cpu"]
        parts = ", ".join(f"{k} {v / wall / rate * 1000:.1f} ms" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
        return f"{parts} of CPU per submission ({sum(cpu.values()) / wall:.2f} of {os.cpu_count()} cores busy)"


# ---------------------------------------------------------------------------- audit

def worker_audit(since_id: int) -> dict:
    _django()
    from django.db.models import Max

    from satupintu.core.models import AuditEntry

    qs = AuditEntry.objects.filter(id__gt=since_id)
    return {"written": qs.count(), "sealed": qs.filter(seq__isnull=False).count(),
            "pending": AuditEntry.objects.filter(seq__isnull=True).count(),
            "max_id": AuditEntry.objects.aggregate(m=Max("id"))["m"] or 0}


def run_worker(env, name: str, *args: str, timeout: int = 3600) -> dict:
    done = subprocess.run([PY, __file__, "--worker", name, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.stderr and name == "prepare":
        sys.stdout.write(done.stderr if done.returncode == 0 else "")
    if done.returncode != 0:
        raise SystemExit(f"worker {name} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ============================================================================ HTTP load

class Keepalive:
    """One persistent HTTP/1.1 connection per server for one client thread."""

    def __init__(self, urls):
        self.hosts = [urllib.parse.urlsplit(u) for u in urls]
        self.conns = [None] * len(urls)

    def request(self, i, method, path, body=None, headers=None):
        i %= len(self.hosts)
        for attempt in (1, 2):
            conn = self.conns[i]
            if conn is None:
                conn = self.conns[i] = http.client.HTTPConnection(self.hosts[i].hostname, self.hosts[i].port, timeout=60)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, data
            except (http.client.HTTPException, OSError):
                conn.close()
                self.conns[i] = None
                if attempt == 2:
                    raise
        raise AssertionError

    def close(self):
        for c in self.conns:
            if c is not None:
                c.close()


def load(urls, clients: int, seconds: float, make_request) -> dict:
    """`clients` threads, each round-robin over the servers, for `seconds`."""
    statuses, latencies, lock = Counter(), [], threading.Lock()
    samples: dict[int, bytes] = {}
    stop_at = time.perf_counter() + seconds

    def run(t):
        ka, k = Keepalive(urls), 0
        try:
            while time.perf_counter() < stop_at:
                method, path, body, headers, expect = make_request(t, k)
                t0 = time.perf_counter()
                try:
                    status, data = ka.request(t + k, method, path, body, headers)
                except OSError as exc:
                    status, data = 599, str(exc).encode()
                ms = (time.perf_counter() - t0) * 1000
                k += 1
                with lock:
                    statuses[status] += 1
                    if status == expect:
                        latencies.append(ms)
                    else:
                        samples.setdefault(status, data[:300])
        finally:
            ka.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(t,)) for t in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    ok = len(latencies)
    return {"ok": ok, "seconds": elapsed, "rate": ok / elapsed, "statuses": dict(statuses), "latencies": latencies,
            "samples": {k: v.decode(errors="replace") for k, v in samples.items()}}


def api_login(url, email) -> str:
    req = urllib.request.Request(url + "/api/v1/auth/login", data=json.dumps({"username": email, "password": PASSWORD}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["token"]


def session_login(url, email) -> str:
    """Sign in through the login page like a browser; returns the Cookie header."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(url + "/akun/masuk/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD}).encode()
    opener.open(urllib.request.Request(url + "/akun/masuk/", data=form, method="POST"), timeout=30).read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"session login of {email} failed")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def sequential(url, path, n, headers) -> tuple[list[float], Counter]:
    ka, times, statuses = Keepalive([url]), [], Counter()
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            status, _data = ka.request(0, "GET", path, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            statuses[status] += 1
    finally:
        ka.close()
    return times, statuses


# ============================================================================ main

def seeded_count(env) -> int:
    import psycopg

    try:
        with psycopg.connect(env["DATABASE_URL"], connect_timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM cases_application").fetchone()[0]
    except psycopg.Error:
        return -1


def side_by_side(left: list[str], right: list[str], titles=("captured (Django, one submission)", "direct (psycopg)")) -> str:
    width = max([len(titles[0])] + [len(x) for x in left]) + 2
    lines = [f"    {titles[0]:<{width}}{titles[1]}"]
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        mark = " " if a == b else "≠"
        lines.append(f"  {mark} {a:<{width}}{b}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database when it already holds --applications")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8, help="blocking threads of each granian process")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each throughput phase")
    parser.add_argument("--rounds", type=int, default=3, help="turns of HTTP submissions and direct SQL (median reported)")
    parser.add_argument("--inbox-requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=8111)
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench-cases"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fn = {"prepare": lambda: worker_prepare(int(args.args[0])),
              "capture": lambda: worker_capture(json.loads(args.args[0])),
              "counts": lambda: worker_counts(args.args[0], args.args[1]),
              "direct": lambda: worker_direct(json.loads(args.args[0]), int(args.args[1]), float(args.args[2]), int(args.args[3])),
              "audit": lambda: worker_audit(int(args.args[0]))}[args.worker]
        print(json.dumps(fn(), default=str))
        return

    wall = time.perf_counter()
    data_dir = Path(args.data_dir)
    (data_dir / "vault").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/satupintu_bench_cases"),
           "DEBUG": "false", "SECRET_KEY": "bench-only-secret-key-0123456789abcdef", "ALLOWED_HOSTS": "127.0.0.1,testserver",
           "DJANGO_SETTINGS_MODULE": "satupintu.config.settings", "LOG_LEVEL": "WARNING",
           "SATUPINTU_DATA_DIR": str(data_dir), "SATUPINTU_VAULT_DIR": str(data_dir / "vault"),
           "STATIC_ROOT": str(data_dir / "static")}
    print(f"submit_and_inbox: {args.applications:,} applications in PostgreSQL, {args.processes} granian processes × {args.threads} threads, "
          f"{args.clients} clients, {args.seconds:g} s per phase; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine shares them)")
    existing = seeded_count(env) if args.reuse else -1
    if existing >= args.applications:
        print(f"  reusing the database: {existing:,} applications (migrating it to this checkout)")
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, capture_output=True)
    else:
        print("  setting up: migrate, load_profile mpp-pekanbaru, bench accounts and vault documents, seed …", flush=True)
        recreate_database(env)
    info = run_worker(env, "prepare", str(args.applications))
    if info["seed_seconds"] is not None:
        print(f"  seeded in {info['seed_seconds']:.1f} s")
    print(f"  database: {info['applications']:,} applications, {info['tasks']:,} stage tasks")

    capture = run_worker(env, "capture", json.dumps(info["citizens"][0]))
    counts = run_worker(env, "counts", info["officer"], info["quiet"])
    run_id = time.strftime("%H%M%S")

    def submit_phase(urls, tokens, tag):
        def submit(t, k):
            c = t % len(info["citizens"])
            body = json.dumps({"service": SERVICE, "submit": True, "documents": info["citizens"][c]["documents"]}).encode()
            return ("POST", "/api/v1/applications", body,
                    {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[c]}",
                     "Idempotency-Key": f"bench-{run_id}-{tag}-{t}-{k}"}, 201)

        load(urls, args.clients, 2, lambda t, k: submit(t, -1 - k))  # warm-up (keys of their own)
        before = run_worker(env, "audit", "0")["max_id"]
        window = CpuWindow(args.seconds, "client")
        result = load(urls, args.clients, args.seconds, submit)
        result["cpu"] = window.per_item(result["rate"])
        result["audit"] = run_worker(env, "audit", str(before))
        time.sleep(2)
        result["audit_later"] = run_worker(env, "audit", str(before))
        return result

    print("  running: trivial endpoint, submissions, inbox …", flush=True)
    procs, urls = start_servers(env, args.processes, args.port, threads=args.threads)
    try:
        tokens = [api_login(urls[0], c["email"]) for c in info["citizens"]]
        # -- a. trivial endpoint --------------------------------------------------------------
        load(urls, args.clients, 2, lambda t, k: ("GET", "/api/v1/health", None, {}, 200))  # warm-up
        trivial = load(urls, args.clients, args.seconds, lambda t, k: ("GET", "/api/v1/health", None, {}, 200))
        # -- b./c. submissions over HTTP, then the same writes with psycopg, in turns: the
        # machine's speed drifts (other tenants), so each ratio compares neighbouring phases
        rounds = []
        for r in range(args.rounds):
            print(f"  round {r + 1}/{args.rounds}: submissions over HTTP, then the same writes with psycopg …", flush=True)
            sub = submit_phase(urls, tokens, f"r{r}")
            before = run_worker(env, "audit", "0")["max_id"]
            direct = run_worker(env, "direct", json.dumps(info["citizens"]), str(args.clients), str(args.seconds),
                                str(args.processes))
            direct["audit"] = run_worker(env, "audit", str(before))
            rounds.append((sub["rate"] / direct["rate"] if direct["rate"] else float("nan"), r, sub, direct))
        _ratio, _r, submitted, direct = sorted(rounds, key=lambda x: x[:2])[len(rounds) // 2]  # the median round
        # -- e. inbox, one client after the other --------------------------------------------
        headers = {"Cookie": session_login(urls[0], info["officer"])}
        sequential(urls[0], "/kantor/", 10, headers)  # warm-up
        inbox = {}
        for path, n in (("/kantor/", args.inbox_requests), ("/kantor/?due=overdue", 50), ("/kantor/?due=due_soon", 50),
                        ("/kantor/?page=5", 50), ("/api/v1/inbox", args.inbox_requests)):
            inbox[path] = sequential(urls[0], path, n, headers)
    finally:
        stop_servers(procs)
    pending_before_verify = run_worker(env, "audit", "0")["pending"]
    verify = subprocess.run([PY, "manage.py", "audit_verify"], cwd=ROOT, env=env, capture_output=True, text=True)
    verify_lines = [line for line in (verify.stdout + verify.stderr).strip().splitlines() if line.strip()] or ["(no output)"]

    # -- report ----------------------------------------------------------------------------------
    print("\n  writes of one submission (kind + table, consecutive statements grouped; ≠ marks a difference)")
    print(side_by_side(capture["lines"], direct["lines"]))
    print(f"    not mirrored: the plain reads (SELECT) the real requests also make ({capture['later_reads']} per"
          f" submission; {capture['reads']} in the captured one, its process's first, which loads the process's copy of"
          " the catalogue); the direct path"
          " issues the writes, the row locks (SELECT … FOR UPDATE, with the same joins) and the seal's read of the"
          " pending entries. Values differ where Django computes them in Python (timestamps: now() here).")
    print(f"\n  a. trivial endpoint   GET /api/v1/health        {trivial['rate']:7.1f} req/s  {ms_summary(trivial['latencies'])}"
          f"  statuses {trivial['statuses']}")
    print(f"  b. submission         POST /api/v1/applications {submitted['rate']:7.1f} /s     {ms_summary(submitted['latencies'])}"
          f"  {submitted['ok']} × 201 in {submitted['seconds']:.1f} s; statuses {submitted['statuses']}")
    for status, sample in submitted["samples"].items():
        print(f"       first {status}: {sample}")
    print(f"  c. direct SQL         same writes, psycopg      {direct['rate']:7.1f} tx/s    p50 {direct['p50']:6.1f} ms  p95 {direct['p95']:6.1f} ms"
          f"  {direct['done']} submissions in {direct['seconds']:.1f} s on {args.clients} connections; errors {direct['errors'] or 0}")
    print(f"     CPU, submissions over HTTP: {submitted['cpu']}")
    print(f"     CPU, direct SQL:            {direct['cpu']} (its sealer threads count as client)")
    ratio = submitted["rate"] / direct["rate"] if direct["rate"] else float("nan")
    print("     rounds (b then c, in turns; the median one is shown above): "
          + "; ".join(f"{s_['rate']:.1f} /s ÷ {d_['rate']:.1f} tx/s = {q * 100:.1f} %" for q, _r, s_, d_ in sorted(rounds, key=lambda x: x[1])))
    print(f"  d. submission ÷ direct SQL = {ratio * 100:5.1f} %   (target ≥ 25 %: {'met' if ratio >= 0.25 else 'MISSED'});"
          f" submission ÷ trivial endpoint = {submitted['rate'] / trivial['rate'] * 100:.1f} %")
    a = submitted["audit"]
    print(f"     audit, HTTP run: {a['written']} entries written, {a['sealed']} sealed at the end of the run, {a['pending']} pending"
          f" then, {submitted['audit_later']['pending']} pending 2 s later")
    print(f"     audit, direct run: {direct['audit']['written']} written, {direct['audit']['sealed']} sealed, "
          f"{direct['audit']['pending']} pending at its end" + (" (the last sealers found the head locked: left to cron's audit_seal)"
                                                    if direct['audit']['pending'] else ""))
    print(f"     manage.py audit_verify ({pending_before_verify} pending before it): {' / '.join(verify_lines)}")
    print("  e. officer inbox (sequential, one client, session of the DPMPTSP front office)")
    for path, (times, statuses) in inbox.items():
        print(f"     GET {path:<24} p50 {pct(times, 50):6.1f} ms  p95 {pct(times, 95):6.1f} ms  (n={len(times)}, statuses {dict(statuses)})")
    page95 = pct(inbox["/kantor/"][0], 95)
    print(f"     /kantor/ p95 target < 100 ms: {'met' if page95 < 100 else 'MISSED'}")
    f, q = counts["full"], counts["quiet"]
    constant = (f["page"], f["page_overdue"], f["api"]) == (q["page"], q["page_overdue"], q["api"])
    print(f"     SQL queries per request, {f['waiting']:,} waiting stages vs {q['waiting']:,} ({info['quiet_role']} of another agency):"
          f" /kantor/ {f['page']} vs {q['page']}, ?due=overdue {f['page_overdue']} vs {q['page_overdue']},"
          f" /api/v1/inbox {f['api']} vs {q['api']} ({'constant' if constant else 'NOT constant'})")

    print("\n  summary")
    rows = [
        ("applications in the database", f"{info['applications']:,} seeded, {info['tasks']:,} stage tasks"),
        ("trivial endpoint", f"{trivial['rate']:.0f} req/s, p95 {pct(trivial['latencies'], 95):.1f} ms"),
        ("submission over HTTP", f"{submitted['rate']:.1f} /s, p95 {pct(submitted['latencies'], 95):.0f} ms, "
                                 f"{sum(v for k, v in submitted['statuses'].items() if k != 201)} errors"),
        ("same writes, direct SQL", f"{direct['rate']:.1f} /s"),
        ("submission ÷ direct (≥ 25 %)", f"{ratio * 100:.1f} % {'met' if ratio >= 0.25 else 'MISSED'}"),
    ]
    rows += [
        ("audit pending 2 s after / verify", f"{submitted['audit_later']['pending']} / {verify_lines[-1][:70]}"),
        ("/kantor/ p50 / p95 (< 100 ms)", f"{pct(inbox['/kantor/'][0], 50):.1f} / {page95:.1f} ms {'met' if page95 < 100 else 'MISSED'}"),
        ("/api/v1/inbox p50 / p95", f"{pct(inbox['/api/v1/inbox'][0], 50):.1f} / {pct(inbox['/api/v1/inbox'][0], 95):.1f} ms"),
        ("queries /kantor/ full vs quiet inbox", f"{f['page']} vs {q['page']} ({'constant' if constant else 'NOT constant'})"),
        ("load average at the end", " ".join(f"{x:.1f}" for x in os.getloadavg())),
        ("wall time of this run", f"{time.perf_counter() - wall:.0f} s"),
    ]
    for k, v in rows:
        print(f"    {k:<38} {v}")


if __name__ == "__main__":
    main()
