"""PostgreSQL prepares a statement that a connection runs often (DB_PREPARE_THRESHOLD) and may
then plan it once for any values. Such a plan cannot use an index that holds only the rows of
one status (the status is a parameter, not a constant), and it guesses how many rows a
deadline range holds: with the inbox's old partial index the deadline filters joined and
sorted every waiting stage (235-370 ms at 1,000,000 applications) from their tenth run on a
connection. The inbox's indexes carry the status as a column, so a plan for any values still
reads them in deadline order and stops at the page."""

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


def _generic_plan(sql: str, params) -> dict:
    """The plan PostgreSQL makes once for any values of the parameters, with sequential scans
    discouraged (the test database is tiny: a scan of every row would win anyway)."""
    numbers = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _m: f"${next(numbers)}", sql).replace("%%", "%")
    with connection.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_generic_plan")
        cur.execute("SET enable_seqscan = off")
        try:
            cur.execute("PREPARE inbox_plan AS " + prepared)
            cur.execute(connection.ops.compose_sql("EXPLAIN (FORMAT JSON) EXECUTE inbox_plan(" + ", ".join(["%s"] * len(params)) + ")",
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


@pytest.mark.parametrize("due", ["", "due_soon", "overdue"])
def test_the_inbox_page_planned_for_any_values_reads_the_index_in_order(submitted, officers, due):
    officer = officers["dpmptsp:front_office"]
    seen = _statements(lambda: list(selectors.inbox(actor=officer, due=due).items))
    page = [(sql, params) for sql, params in seen if sql.startswith('SELECT "cases_stagetask"."id"')]
    assert len(page) == 1
    nodes = list(_nodes(_generic_plan(*page[0])))
    assert not [n["Node Type"] for n in nodes if "Sort" in n["Node Type"]], nodes
    scans = [n for n in nodes if n.get("Relation Name") == "cases_stagetask"]
    assert [n.get("Index Name") for n in scans] in (["cases_task_inbox"], ["cases_task_due"]), scans


def test_the_email_requeue_planned_for_any_values_reads_its_index(db):
    """notify_requeue runs as a task every 15 minutes, so on a worker's long connection its
    statement is prepared too: its index must not depend on the statuses being constants."""
    from datetime import timedelta

    from satupintu.core.permissions import SystemActor
    from satupintu.notify.services import notification_emails_requeue

    seen = _statements(lambda: notification_emails_requeue(actor=SystemActor("tests"), older_than=timedelta(minutes=15)))
    found = [(sql, params) for sql, params in seen if 'FROM "notify_notification"' in sql and "FOR UPDATE" in sql]
    assert len(found) == 1
    nodes = list(_nodes(_generic_plan(*found[0])))
    scans = [n for n in nodes if n.get("Relation Name") == "notify_notification"]
    assert [n.get("Index Name") for n in scans] == ["notify_mail_unfinished"], scans
