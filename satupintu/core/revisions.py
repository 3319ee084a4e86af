"""Copies of rarely written rows, kept by each web process and checked against a revision.

Reading a bearer token with its user, the officers to notify of a new stage, or an agency's
webhook endpoints is a query with model instances on every filing. Those rows change seldom,
so a process keeps what it read in a `ProcessCopies`, under the token of a `Revision` row, and
reads only that token (one indexed row, no model instances) while it is unchanged.

The token is replaced in the writing transaction itself, so every process sees a change as soon
as it commits, exactly when a fresh read would have seen it: for identity and webhooks by
database triggers on the data's own tables, so that a change made anywhere — a service, the
admin site, a queryset `update()`, plain SQL, a `TRUNCATE` — counts; for the catalogue, whose
many tables have one writer, by its services (`lock`, then `bump`). The apps name the tables
(`watch`, in their `ready()`), and every `migrate` installs the triggers afresh after the
migrations (`install_triggers`): a migration that rebuilds a table (SQLite drops its triggers
then) or adds a column is covered by the end of the same `migrate`. A missing `Revision` row (a
test database flushed between tests) means no copies: everything is read afresh.

Within one request the tokens are read once, all in one statement, outside any transaction,
and kept for the rest of the request (`current`): a filing then checks its four copies with one
read instead of four. They are dropped when the request ends, after SNAPSHOT_SECONDS, and as
soon as this connection writes to a watched table or to the revisions (`_watch_writes`, on every
connection): what the request reads after its own change is read afresh, and a token read inside
a transaction (which may hold the request's own uncommitted change) is never kept. What the rest
of the request does with a kept token is what it would have done had it run when the token was
read, a moment earlier; copies read meanwhile are never older than the token they are kept under,
and one read inside a transaction is kept under the token read there. (A write that bypasses
Django's cursors — psycopg's own, `COPY` — is not seen by the watcher: a copy held already may
then be served to the rest of that request without the write.)

Copies are shared by a process's threads and must be treated as read-only; `copy_user` gives a
caller its own user to annotate."""

import copy
import re
import secrets
import threading
import time
from collections.abc import Callable

from django.db import connection
from django.db.models.expressions import RawSQL

from .models import Revision

CATALOGUE = "catalogue"  # services, versions, requirements, agencies, closures … (changed by catalog.services)
IDENTITY = "identity"  # users, citizen profiles, API tokens (changed by triggers)
WEBHOOKS = "webhooks"  # webhook endpoints: agency, on/off, events (changed by triggers)
TABLE = "core_revision"
VENDORS = ("postgresql", "sqlite")  # the databases with triggers; elsewhere no copies
TOKEN_SQL = f"SELECT token FROM {TABLE} WHERE name = %s"  # noqa: S608 (a constant)
ALL_TOKENS_SQL = f"SELECT name, token FROM {TABLE}"  # noqa: S608 (a constant)
SNAPSHOT_SECONDS = 1.0  # the longest a request keeps the tokens it read


class _Snapshot(threading.local):
    """The tokens this thread's request read (None: none kept), and when."""

    in_request = False
    tokens: dict | None = None
    read_at = 0.0


_snapshot = _Snapshot()


def current(name: str) -> str | None:
    """The revision's token now (None: its row is missing, or the database has no triggers for
    it: no copies then). Plain SQL. In a request, outside a transaction, every token is read in
    one statement and kept for the request (see the module's notes); elsewhere one indexed row
    is read."""
    return _current(name)[0]


def _current(name: str, *, fresh: bool = False) -> tuple[str | None, bool]:
    """(`current`'s token, whether it is one the request kept); `fresh`: never a kept one."""
    if connection.vendor not in VENDORS:
        return None, False
    kept = _snapshot.tokens
    if not fresh and kept is not None and time.monotonic() - _snapshot.read_at <= SNAPSHOT_SECONDS:
        return kept.get(name), True
    if not fresh and _snapshot.in_request and not _in_transaction():
        read_at = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(ALL_TOKENS_SQL)
            tokens = dict(cursor.fetchall())
        _snapshot.tokens, _snapshot.read_at = tokens, read_at
        return tokens.get(name), False
    with connection.cursor() as cursor:
        cursor.execute(TOKEN_SQL, [name])
        row = cursor.fetchone()
    return (row[0] if row else None), False


def _in_transaction() -> bool:
    """In a transaction of the code's own. A test's wrapping transaction stands for autocommit,
    as Django's own check of durable blocks treats it."""
    if connection.get_autocommit():
        return False
    blocks = connection.atomic_blocks
    return not blocks or any(not block._from_testcase for block in blocks)


def request_started(**kwargs) -> None:
    _snapshot.in_request, _snapshot.tokens = True, None


def request_finished(**kwargs) -> None:
    _snapshot.in_request, _snapshot.tokens = False, None


_is_select = re.compile(r"\s*select\b", re.IGNORECASE).match
_names_watched: Callable[[str], object] | None = None  # finds a watched table or the revisions: built once


def _names_a_watched_table(sql: str) -> bool:
    global _names_watched
    if _names_watched is None:  # unquoted names are case-blind in PostgreSQL and SQLite
        tables = (TABLE, *sorted({m._meta.db_table for m, _n, _i in _watched}))
        _names_watched = re.compile("|".join(map(re.escape, tables)), re.IGNORECASE).search
    return bool(_names_watched(sql))


def _watch_writes(execute, sql, params, many, context):
    """Every statement of the connection: one that may write to a watched table or to the
    revisions (any but a SELECT that names one) drops the request's kept tokens."""
    if _snapshot.tokens is not None and not _is_select(sql) and _names_a_watched_table(sql):
        _snapshot.tokens = None
    return execute(sql, params, many, context)


def connection_created(sender, connection, **kwargs) -> None:
    # first in the list: `connection.execute_wrapper()` removes the last one when it ends, and a
    # connection opened inside one would otherwise lose this watcher for the rest of its life
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch_writes)


def lock(name: str) -> None:
    """Lock the revision's row until the transaction ends (a writer that bumps it takes this
    lock first, so that writers of several rows never deadlock on it)."""
    list(Revision.objects.select_for_update().filter(name=name).values_list("pk", flat=True))


def bump(name: str, using: str = "default") -> None:
    """A new token, in the caller's transaction (for data without triggers: the catalogue)."""
    Revision.objects.using(using).update_or_create(name=name, defaults={"token": secrets.token_hex(16)})  # a flushed test database


def token_of(name: str) -> RawSQL:
    """The revision's token as an expression, to annotate the rows being copied with it: read in
    the same statement, so from the same snapshot."""
    return RawSQL(TOKEN_SQL, [name])


class ProcessCopies:
    """What one process read, by key, each under the revision token it was read after. Bounded:
    past `limit` keys the copies start again from empty."""

    def __init__(self, name: str, limit: int = 10_000):
        self.name = name
        self._lock = threading.Lock()
        self._items: dict = {}
        self._limit = limit
        _every.append(self)

    def read(self, key, fetch, keep=None):
        """The copy of `key` while the revision is the one it was read under; else `fetch()`,
        kept (unless `keep(value)` says not). The token is read first and the rows after it, so
        a copy is never older than its token: a change committed in between gives a new token,
        and the copy is read again on its next use. Queries: the token (`current`: none when the
        request keeps it), and the rows when the copy does not hold; inside a transaction, a
        kept token is read again before the rows, so that the copy is kept under the token that
        transaction sees."""
        token, kept = _current(self.name)
        held = self._held(key)
        if held is not None and token is not None and held[0] == token:
            return held[1]
        if kept and _in_transaction():  # kept under the token this transaction sees, its own changes with it
            token = _current(self.name, fresh=True)[0]
        value = fetch()
        if keep is None or keep(value):
            self._keep(key, token, value)
        return value

    def read_with_token(self, key, fetch):
        """`read`, for rows that can carry the token themselves: `fetch()` returns (token, value)
        read in one statement (`annotate(revision=revisions.token_of(NAME))`; token None when
        no row came back). A key with no copy yet is then one query, not two."""
        held = self._held(key)
        if held is not None:
            if held[0] == current(self.name):
                return held[1]
        token, value = fetch()
        self._keep(key, token, value)
        return value

    def _held(self, key):
        with self._lock:
            return self._items.get(key)

    def _keep(self, key, token, value) -> None:
        if token is None:
            return
        with self._lock:
            if len(self._items) >= self._limit:
                self._items = {}
            self._items[key] = (token, value)

    def clear(self) -> None:
        with self._lock:
            self._items = {}


_every: list[ProcessCopies] = []
_watched: list[tuple[type, str, frozenset[str]]] = []


def watch(model, name: str, *, ignore=()) -> None:
    """Have `migrate` keep triggers on `model`'s table that give revision `name` a new token with
    every insert, delete, truncate and update, except updates that change only the fields in
    `ignore` (a login's `last_login`). A column added later is watched without more ado."""
    global _names_watched
    _watched.append((model, name, frozenset(model._meta.get_field(f).column for f in ignore)))
    _names_watched = None


# PostgreSQL: one function for every table, run once per statement (not per row: a bulk delete
# of 100,000 rows would otherwise rewrite the one revision row 100,000 times in one transaction,
# each time past all its earlier versions). TG_ARGV = (revision name, ignored columns...). The
# statement's rows come in transition tables: an INSERT or DELETE of no rows, and an UPDATE that
# changed only ignored columns (or nothing), keep the token. The UPDATE's rows are compared as
# sets (hashed, not joined): a row image holds its primary key, so a changed row's new image is
# never among the old ones. plpgsql bodies are not bound to the columns, so later migrations may
# alter or drop columns freely.
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION core_revision_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ignored text[] := CASE WHEN TG_NARGS > 1 THEN TG_ARGV[1:TG_NARGS - 1] ELSE '{}'::text[] END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NOT EXISTS (SELECT to_jsonb(n) - ignored FROM new_rows n
                       EXCEPT SELECT to_jsonb(o) - ignored FROM old_rows o) THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO core_revision (name, token) VALUES (TG_ARGV[0], md5(random()::text || clock_timestamp()::text))
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END
$$"""
SQLITE_BUMP = ("INSERT INTO core_revision (name, token) VALUES ('{name}', lower(hex(randomblob(16)))) "
               "ON CONFLICT (name) DO UPDATE SET token = excluded.token")


def trigger_statements(vendor: str, tables: dict[str, list[str]]) -> list[str]:
    """The SQL that drops the watched tables' triggers and, when `core_revision` is among
    `tables` (table: its columns, as the database has them now), creates them again. Watched
    tables that do not exist (migrations reversed) are left alone; nothing for databases other
    than PostgreSQL and SQLite."""
    create = TABLE in tables
    statements = [PG_FUNCTION] if vendor == "postgresql" and create and _watched else []
    for model, name, ignored in _watched:
        table = model._meta.db_table
        if table not in tables:
            continue
        if vendor == "postgresql":
            args = ", ".join(f"'{a}'" for a in (name, *sorted(ignored)))
            events = (("ins", "INSERT", "NEW TABLE AS new_rows"), ("upd", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                      ("del", "DELETE", "OLD TABLE AS old_rows"))
            # (one event per trigger: transition tables allow no more)
            statements += [f"DROP TRIGGER IF EXISTS {table}_revision_{suffix} ON {table}"
                           for suffix in ("ins", "upd", "del", "truncate")]
            statements += [
                f"CREATE TRIGGER {table}_revision_{suffix} AFTER {event} ON {table} REFERENCING {rows} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION core_revision_bump({args})" for suffix, event, rows in events
            ] + [
                f"CREATE TRIGGER {table}_revision_truncate AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION core_revision_bump({args})",
            ] if create else []
        elif vendor == "sqlite":
            columns = ", ".join(c for c in tables[table] if c not in ignored)
            bump = SQLITE_BUMP.format(name=name)
            for suffix, event in (("i", "INSERT"), ("d", "DELETE"), ("u", f"UPDATE OF {columns}")):
                statements.append(f"DROP TRIGGER IF EXISTS {table}_revision_{suffix}")
                if create:
                    statements.append(f"CREATE TRIGGER {table}_revision_{suffix} AFTER {event} ON {table} BEGIN {bump}; END")
    return statements


def install_triggers(connection) -> None:
    """Create or replace the triggers of every watched table, and give every revision a new token
    (a table rebuilt by a migration had no triggers until now, and migrations may have written
    to it). Run after every `migrate` (and test database flush) by `core`'s post_migrate; after
    migrations that removed `core_revision`, it removes the triggers that would write to it."""
    from django.db import transaction

    if connection.vendor not in VENDORS:
        return
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        wanted = {TABLE, *(m._meta.db_table for m, _n, _i in _watched)} & present
        tables = {t: [c.name for c in connection.introspection.get_table_description(cursor, t)] for t in wanted}
        for statement in trigger_statements(connection.vendor, tables):
            cursor.execute(statement)
        if TABLE in tables:  # new tokens: whatever the migrations wrote while triggers were missing
            for name in (CATALOGUE, *sorted({n for _m, n, _i in _watched})):
                bump(name, using=connection.alias)


def clear_all() -> None:
    """Drop every copy this process holds (tests: a rolled-back test database brings back an
    older token)."""
    for copies in _every:
        copies.clear()
    _snapshot.tokens = None


def copy_user(user):
    """The caller's own copy of a shared user (and of its citizen profile, when read with it)."""
    own = copy.copy(user)  # Model.__reduce__: its own _state and field cache
    citizen = user._state.fields_cache.get("citizen")
    if citizen is not None:
        own.citizen = copy.copy(citizen)
    return own
