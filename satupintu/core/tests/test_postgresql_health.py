"""A persistent PostgreSQL connection is checked before a request uses it by reading its socket
(satupintu/core/postgresql), not with a `SELECT 1` round trip, when it was checked a moment ago:
a silent idle connection is used as it is, one the server has closed (a restart,
`pg_terminate_backend`) is opened again; one idle for longer, or inside a transaction, gets the
round trip."""

import select

import pytest
from django.db import DatabaseError, close_old_connections, connection, transaction

from satupintu.core.postgresql import base

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


def _queries_refused(monkeypatch):
    def no_query(*args, **kwargs):
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(connection.connection, "cursor", no_query)


def test_a_connection_checked_a_moment_ago_is_checked_again_without_a_query(monkeypatch):
    _backend_pid()
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    assert connection.is_usable()  # the first check: a round trip
    _queries_refused(monkeypatch)
    assert connection.is_usable()


def test_a_connection_idle_for_longer_is_checked_with_a_query(monkeypatch):
    _backend_pid()
    assert connection.is_usable()
    monkeypatch.setattr(connection, "_checked_at", connection._checked_at - base.POLL_SECONDS - 1)
    _queries_refused(monkeypatch)
    with pytest.raises(AssertionError, match="sent a query"):
        connection.is_usable()


def test_a_connection_the_server_closed_is_opened_again_at_the_next_request():
    pid = _backend_pid()
    assert connection.is_usable()
    _terminate(pid)
    assert not connection.is_usable()
    close_old_connections()  # what a new request does first (request_started)
    assert _backend_pid() != pid  # the first query of the request runs, on a new connection


def test_a_failed_transaction_is_not_usable():
    _backend_pid()
    assert connection.is_usable()
    with transaction.atomic():
        with pytest.raises(DatabaseError):
            with connection.cursor() as cur:
                cur.execute("SELECT 1 / 0")
        assert not connection.is_usable()  # the socket is silent, but the transaction is aborted
        connection.set_rollback(True)
