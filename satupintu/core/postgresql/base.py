"""Django's PostgreSQL backend, with a health check that asks the connection's socket, not the server.

With CONN_HEALTH_CHECKS Django checks a persistent connection before the first query of each
request with `SELECT 1`: one round trip to the server on every request (a fifth of a
millisecond of a filing's CPU, and the server's work besides). Between requests a connection is
idle, and on an idle connection the server sends nothing unless the connection is going away:
a restart, `pg_terminate_backend` or `idle_session_timeout` send a FATAL message and close it,
a killed backend's socket reaches end of file. So an idle connection whose socket has something
to read, or that psycopg already knows closed or broken, is closed and opened again; a silent one
is used as it is. A connection inside a transaction, or on a system without poll(), is checked
with Django's own `SELECT 1`. What neither check sees (a network that drops packets without a
word) fails the first query as it would have failed the `SELECT 1`.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        if conn.info.transaction_status != pq.TransactionStatus.IDLE or not hasattr(select, "poll"):
            return super().is_usable()
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN)  # a hang-up or an error is reported as well
        return not poller.poll(0)
