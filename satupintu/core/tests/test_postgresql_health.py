"""A persistent PostgreSQL connection is checked before a request uses it by reading its socket
(satupintu/core/postgresql), not with a `SELECT 1` round trip: a silent idle connection is used
as it is, one the server has closed (a restart, `pg_terminate_backend`) is opened again."""

import select

import pytest
from django.db import close_old_connections, connection

pytestmark = [pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the PostgreSQL backend's health check"),
              pytest.mark.django_db(transaction=True)]


def _backend_pid() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def _terminate(pid: int) -> None:
    """End the backend `pid` from another connection, and wait until its goodbye reaches our socket."""
    other = connection.copy()
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    assert poller.poll(10_000), "the server did not close the connection within 10 s"


def test_an_idle_connection_is_checked_without_a_query(monkeypatch):
    _backend_pid()
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]

    def no_query(*args, **kwargs):
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(connection.connection, "cursor", no_query)
    assert connection.is_usable()


def test_a_connection_the_server_closed_is_opened_again_at_the_next_request():
    pid = _backend_pid()
    _terminate(pid)
    assert not connection.is_usable()
    close_old_connections()  # what a new request does first (request_started)
    assert _backend_pid() != pid  # the first query of the request runs, on a new connection


def test_a_broken_or_closed_connection_is_not_usable():
    _backend_pid()
    connection.connection.close()
    assert not connection.is_usable()
    close_old_connections()
    assert _backend_pid()
