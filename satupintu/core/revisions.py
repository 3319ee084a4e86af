"""Copies of rarely written rows, kept by each web process and checked against a revision.

Reading a bearer token with its user, the officers to notify of a new stage, or an agency's
webhook endpoints is a query with model instances on every filing. Those rows change seldom,
so a process keeps what it read in a `ProcessCopies`, under the token of a `Revision` row, and
reads only that token (one indexed row, no model instances) while it is unchanged.

The token is replaced in the writing transaction itself, so every process sees a change as soon
as it commits, exactly when a fresh read would have seen it: for identity and webhooks by
database triggers on the data's own tables (`RevisionTriggers` in `core.migration_ops`), so that
a change made anywhere — a service, the admin site, a queryset `update()`, plain SQL — counts;
for the catalogue, whose many tables have one writer, by its services (`lock`, then `bump`). A missing `Revision` row (a
test database flushed between tests) means no copies: everything is read afresh.

Copies are shared by a process's threads and must be treated as read-only; `copy_user` gives a
caller its own user to annotate."""

import copy
import secrets
import threading

from django.db import connection
from django.db.models.expressions import RawSQL

from .models import Revision

CATALOGUE = "catalogue"  # services, versions, requirements, agencies, closures … (changed by catalog.services)
IDENTITY = "identity"  # users, citizen profiles, API tokens (changed by triggers)
WEBHOOKS = "webhooks"  # webhook endpoints: agency, on/off, events (changed by triggers)
TABLE = "core_revision"


def current(name: str) -> str | None:
    """The revision's token now (None: its row is missing, or the database has no triggers for
    it: no copies then). Plain SQL: one indexed row."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {TABLE} WHERE name = %s", [name])  # noqa: S608 (a constant)
        row = cursor.fetchone()
    return row[0] if row else None


def lock(name: str) -> None:
    """Lock the revision's row until the transaction ends (a writer that bumps it takes this
    lock first, so that writers of several rows never deadlock on it)."""
    list(Revision.objects.select_for_update().filter(name=name).values_list("pk", flat=True))


def bump(name: str) -> None:
    """A new token, in the caller's transaction (for data without triggers: the catalogue)."""
    Revision.objects.update_or_create(name=name, defaults={"token": secrets.token_hex(16)})  # a flushed test database


def token_of(name: str) -> RawSQL:
    """The revision's token as an expression, to annotate the rows being copied with it: read in
    the same statement, so from the same snapshot."""
    return RawSQL(f"SELECT token FROM {TABLE} WHERE name = %s", [name])  # noqa: S608 (a constant)


class ProcessCopies:
    """What one process read, by key, each under the revision token it was read after. Bounded:
    past `limit` keys the copies start again from empty."""

    def __init__(self, name: str, limit: int = 10_000):
        self.name = name
        self._lock = threading.Lock()
        self._items: dict = {}
        self._limit = limit
        _every.append(self)

    def read(self, key, fetch):
        """The copy of `key` while the revision is the one it was read under; else `fetch()`,
        kept. The token is read first and the rows after it, so a copy is never older than its
        token: a change committed in between gives a new token, and the copy is read again on
        its next use. One query (the token) when the copy holds, one more when it does not."""
        token = current(self.name)
        held = self._held(key)
        if held is not None and token is not None and held[0] == token:
            return held[1]
        value = fetch()
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


def clear_all() -> None:
    """Drop every copy this process holds (tests: a rolled-back test database brings back an
    older token)."""
    for copies in _every:
        copies.clear()


def copy_user(user):
    """The caller's own copy of a shared user (and of its citizen profile, when read with it)."""
    own = copy.copy(user)  # Model.__reduce__: its own _state and field cache
    citizen = user._state.fields_cache.get("citizen")
    if citizen is not None:
        own.citizen = copy.copy(citizen)
    return own
