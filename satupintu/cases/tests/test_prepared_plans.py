"""PostgreSQL: statements a connection runs often are prepared on the server, yet each run is
planned for its own values. A plan made once for any values cannot use the inbox's index of
active stages (the status is a parameter) and guesses the rows of a date range: the deadline
filters of the inbox became 6 times slower after their tenth run on a connection."""

import pytest
from django.db import connection

from satupintu.cases import selectors

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="server-side prepared statements: PostgreSQL")


def _inbox_statements():
    with connection.cursor() as cur:
        cur.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement LIKE %s AND from_sql = false", ['%FROM "cases_stagetask"%'])
        return cur.fetchall()


def test_a_prepared_inbox_query_is_planned_for_its_own_values_every_time(submitted, officers):
    officer = officers["dpmptsp:front_office"]
    for _ in range(15):
        for due in ("due_soon", "overdue", ""):
            page = selectors.inbox(actor=officer, due=due)
            list(page.items)
    prepared = _inbox_statements()
    assert prepared, "the inbox's statements are prepared after a few runs"
    assert all(generic == 0 and custom >= 5 for _sql, generic, custom in prepared), prepared
