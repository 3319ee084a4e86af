"""Migration operations of our own.

Index changes that do not stop writes while they run: on PostgreSQL `CREATE INDEX CONCURRENTLY`
/ `DROP INDEX CONCURRENTLY` (an index on millions of stage tasks takes tens of seconds to build,
and a plain one blocks filings and decisions for all of it); elsewhere plain index changes. A
migration that uses them sets `atomic = False`.

`RevisionTriggers`: the database triggers that keep a `core.Revision` token in step with a
table (`core.revisions`)."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations import AddIndex, RemoveIndex
from django.db.migrations.operations.base import Operation


class _Online:
    """Runs as `concurrent` on PostgreSQL and as `plain` on any other database."""

    concurrent: type
    plain: type

    def _way(self, schema_editor) -> type:
        return self.concurrent if schema_editor.connection.vendor == "postgresql" else self.plain

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._way(schema_editor).database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._way(schema_editor).database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexOnline(_Online, AddIndexConcurrently):
    concurrent, plain = AddIndexConcurrently, AddIndex


class RemoveIndexOnline(_Online, RemoveIndexConcurrently):
    concurrent, plain = RemoveIndexConcurrently, RemoveIndex


class RevisionTriggers(Operation):
    """Triggers that give the `core.Revision` row `name` a new random token whenever `table`
    changes (`core.revisions`): on insert and delete when asked, and on an update that sets any
    of `columns` (all of them: leave out only columns whose changes no copy depends on, such as
    a login's `last_login`). PostgreSQL: statement triggers calling one function; SQLite: row
    triggers. Both write the row with an upsert, so a missing row comes back. Other databases:
    nothing (and no copies are kept there: `core.revisions` reads the token each time)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str, name: str, columns: list[str], insert: bool = True, delete: bool = True):
        self.table, self.name, self.columns, self.insert, self.delete = table, name, list(columns), insert, delete

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.table, self.name, self.columns],
                {"insert": self.insert, "delete": self.delete})

    def state_forwards(self, app_label, state):
        pass

    def describe(self):
        return f"Revision {self.name!r} triggers on {self.table}"

    def _events(self) -> list[tuple[str, str]]:
        events = [("i", "INSERT")] if self.insert else []
        events += [("d", "DELETE")] if self.delete else []
        events += [("u", "UPDATE OF " + ", ".join(self.columns))] if self.columns else []
        return events

    def trigger_names(self) -> list[str]:
        return [f"{self.table}_rev_{code}" for code, _event in self._events()]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        vendor = schema_editor.connection.vendor
        for (code, event), trigger in zip(self._events(), self.trigger_names()):
            if vendor == "postgresql":
                schema_editor.execute(PG_BUMP_FUNCTION)
                schema_editor.execute(f"CREATE TRIGGER {trigger} AFTER {event} ON {self.table} "
                                      f"FOR EACH STATEMENT EXECUTE FUNCTION core_revision_bump('{self.name}')")
            elif vendor == "sqlite":
                schema_editor.execute(
                    f"CREATE TRIGGER {trigger} AFTER {event} ON {self.table} BEGIN "
                    f"INSERT INTO core_revision (name, token) VALUES ('{self.name}', lower(hex(randomblob(16)))) "
                    f"ON CONFLICT (name) DO UPDATE SET token = excluded.token; END")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        vendor = schema_editor.connection.vendor
        for trigger in self.trigger_names():
            if vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {self.table}")
            elif vendor == "sqlite":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")


PG_BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION core_revision_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO core_revision (name, token) VALUES (TG_ARGV[0], md5(random()::text || clock_timestamp()::text))
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END
$$"""
