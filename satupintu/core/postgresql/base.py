"""Django's PostgreSQL backend, with a health check that asks the connection's socket, not the server.

With CONN_HEALTH_CHECKS Django checks a persistent connection before the first query of each
request with `SELECT 1`: one round trip to the server on every request (a fifth of a
millisecond of a filing's CPU, and the server's work besides). Between requests a connection is
idle, and on an idle connection the server sends nothing unless the connection is going away
(nothing here LISTENs): a restart, `pg_terminate_backend` or `idle_session_timeout` send a FATAL
message and close it, a killed backend's socket reaches end of file, and poll() reports a reset
or an error whatever it was asked. So an idle connection that passed a check in the last
POLL_SECONDS is closed and opened again when its socket has something to read (or psycopg
already knows it closed or broken) and is used as it is when the socket is silent.

A connection idle for longer, one inside a transaction (after an error, say), or any connection
on a system without poll() is checked with Django's `SELECT 1`: a database host that crashed or
rebooted sends no goodbye, and only a packet sent to it finds that out (the round trip of the
`SELECT 1` then fails and the connection is opened again; a connection in use within the last
seconds has just had its answers).
"""

import select
import time

from django.db.backends.postgresql import base
from psycopg import pq

POLL_SECONDS = 5.0  # how recently a connection must have been checked for its socket's silence to do
_HAS_POLL = hasattr(select, "poll")  # not on Windows, nor under gevent's patching


class DatabaseWrapper(base.DatabaseWrapper):
    _checked_at = float("-inf")

    def is_usable(self):
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        now = time.monotonic()
        if (_HAS_POLL and now - self._checked_at < POLL_SECONDS
                and conn.pgconn.transaction_status == pq.TransactionStatus.IDLE):
            poller = select.poll()
            poller.register(conn.fileno(), select.POLLIN)  # a hang-up or an error is reported as well
            usable = not poller.poll(0)
        else:
            usable = super().is_usable()
        if usable:
            self._checked_at = now
        return usable
