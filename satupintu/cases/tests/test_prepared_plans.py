"""PostgreSQL prepares a statement that a connection runs often (DB_PREPARE_THRESHOLD) and may
then plan it once for any values. Such a plan cannot use an index that holds only the rows of
one status (the status is a parameter, not a constant), and it guesses how many rows a
deadline range holds: with the inbox's old partial index the deadline filters joined and
sorted every waiting stage (235-370 ms at 1,000,000 applications) from their tenth run on a
connection. The inbox's indexes carry the status as a column, so a plan for any values still
reads them in deadline order and stops at the page.

A plan for the values at hand can misjudge too: the statistics see deadlines spread over years
(finished stages) and expect a handful of active stages due this week where one inbox may hold
thousands. Joined before the LIMIT, such a plan joined and sorted all of them (212 ms); the page
is now cut on the stage tasks alone and only its rows are joined."""

import json
import re

import pytest
from django.db import connection

from satupintu.cases import selectors

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="plans of prepared statements: PostgreSQL")


def _statements(run) -> list[tuple[str, tuple]]:
    seen = []

    def capture(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        run()
    return seen


def _plan(sql: str, params, *, mode: str = "force_generic_plan", analyze: bool = False,
          seqscan: bool = False) -> dict:
    """The plan of `sql` prepared as psycopg prepares it: `force_generic_plan` is the plan
    PostgreSQL makes once for any values, `force_custom_plan` the one for these values. Without
    `seqscan`, sequential scans are discouraged (a tiny test table would be scanned anyway)."""
    numbers = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _m: f"${next(numbers)}", sql).replace("%%", "%")
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    with connection.cursor() as cur:
        cur.execute(f"SET plan_cache_mode = {mode}")
        if not seqscan:
            cur.execute("SET enable_seqscan = off")
        try:
            cur.execute("PREPARE inbox_plan AS " + prepared)
            cur.execute(connection.ops.compose_sql(f"EXPLAIN ({options}) EXECUTE inbox_plan(" + ", ".join(["%s"] * len(params)) + ")",
                                                   [str(p) for p in params]))
            plan = cur.fetchone()[0]
        finally:
            cur.execute("DEALLOCATE ALL")
            cur.execute("RESET plan_cache_mode")
            cur.execute("RESET enable_seqscan")
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _page_statement(officer, due):
    seen = _statements(lambda: list(selectors.inbox(actor=officer, due=due).items))
    page = [(sql, params) for sql, params in seen if sql.startswith('SELECT "cases_stagetask"."id"')]
    assert len(page) == 1
    return page[0]


@pytest.mark.parametrize("who", ["dpmptsp:front_office", "mall_admin"])
@pytest.mark.parametrize("due", ["", "due_soon", "overdue"])
def test_the_inbox_page_planned_for_any_values_reads_the_index_in_order(submitted, officers, mall_admin, due, who):
    """The LIMIT that cuts the page sits on an inbox index scan, with no sort in between (the
    page's rows may be sorted again after it, once joined)."""
    actor = mall_admin if who == "mall_admin" else officers[who]
    plan = _plan(*_page_statement(actor, due))
    cuts = [n for n in _nodes(plan) if n["Node Type"] == "Limit"
            and any(c.get("Index Name") in ("cases_task_inbox", "cases_task_due") for c in _nodes(n))]
    assert len(cuts) == 1, plan
    below = list(_nodes(cuts[0]))
    assert not [n["Node Type"] for n in below if "Sort" in n["Node Type"]], below
    assert {n.get("Relation Name") for n in below if "Relation Name" in n} == {"cases_stagetask"}, below


@pytest.fixture
def skewed_deadlines(submitted, officers):
    """Deadlines as a mall's table holds them: finished stages of every agency and role spread
    over three years, the active ones of one inbox crowded into the next days. The statistics
    then guess a handful of active stages due this week where there are thousands."""
    from satupintu.cases import clock

    today = clock.today(submitted.agency.site)
    agencies = sorted({o.agency_id for o in officers.values()})
    fo = officers["dpmptsp:front_office"]
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO cases_stagetask (stage_key, position, kind, name, after, role, sla_days, status, activated_on,
                                         due_on, note, agency_id, application_id, decided_at)
            SELECT 'done-' || n, 0, 'technical_review', 'Selesai', '[]', (ARRAY['front_office', 'verifier',
                   'technical_reviewer', 'head'])[1 + n %% 4], 3, 'approved', %s::date - (n %% 1100), %s::date - (n %% 1100) + 3,
                   '', (%s::bigint[])[1 + n %% cardinality(%s::bigint[])], %s, now()
            FROM generate_series(1, 60000) n""", [today, today, agencies, agencies, submitted.pk])
        cur.execute("""
            INSERT INTO cases_stagetask (stage_key, position, kind, name, after, role, sla_days, status, activated_on,
                                         due_on, note, agency_id, application_id)
            SELECT 'open-' || n, 0, 'completeness_check', 'Menunggu', '[]', %s, 3, 'active', %s::date - 2,
                   %s::date + (n %% 2) - (CASE WHEN n %% 10 = 0 THEN 5 ELSE 0 END), '', %s, %s
            FROM generate_series(1, 2000) n""", [fo.role, today, today, fo.agency_id, submitted.pk])
        cur.execute("VACUUM ANALYZE cases_stagetask")  # as autovacuum keeps a table (outside a transaction)
    return fo


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["force_custom_plan", "force_generic_plan"])
@pytest.mark.parametrize("due", ["", "due_soon", "overdue"])
def test_the_inbox_page_reads_only_its_rows_when_the_statistics_misjudge(skewed_deadlines, due, mode):
    """Planned with its joins, the deadline window's page joined and sorted all the rows the
    window holds (41,837 stages, 212 ms at 1,000,000 applications) because the planner expected
    15; cut on the stage tasks alone first, it reads its 20."""
    plan = _plan(*_page_statement(skewed_deadlines, due), mode=mode, analyze=True, seqscan=True)
    read = {(n.get("Index Name") or n["Node Type"]): n["Actual Rows"] * n["Actual Loops"] for n in _nodes(plan)
            if n.get("Relation Name") == "cases_stagetask"}
    assert read and max(read.values()) <= 20, read
    assert plan["Actual Rows"] == 20


def test_the_email_requeue_planned_for_any_values_reads_its_index(db):
    """notify_requeue runs as a task every 15 minutes, so on a worker's long connection its
    statement is prepared too: its index must not depend on the statuses being constants."""
    from datetime import timedelta

    from satupintu.core.permissions import SystemActor
    from satupintu.notify.services import notification_emails_requeue

    seen = _statements(lambda: notification_emails_requeue(actor=SystemActor("tests"), older_than=timedelta(minutes=15)))
    found = [(sql, params) for sql, params in seen if 'FROM "notify_notification"' in sql and "FOR UPDATE" in sql]
    assert len(found) == 1
    nodes = list(_nodes(_plan(*found[0])))
    scans = [n for n in nodes if n.get("Relation Name") == "notify_notification"]
    assert [n.get("Index Name") for n in scans] == ["notify_mail_unfinished"], scans
