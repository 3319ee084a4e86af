"""Index changes that do not stop writes while they run: on PostgreSQL `CREATE INDEX
CONCURRENTLY` / `DROP INDEX CONCURRENTLY` (an index on millions of stage tasks takes tens of
seconds to build, and a plain one blocks filings and decisions for all of it); elsewhere plain
index changes. A migration that uses them sets `atomic = False`."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations import AddIndex, RemoveIndex


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
