"""Index changes that do not stop writes while they run: on PostgreSQL `CREATE INDEX
CONCURRENTLY` / `DROP INDEX CONCURRENTLY` (an index on millions of stage tasks takes tens of
seconds to build, and a plain one blocks filings and decisions for all of it); elsewhere plain
index changes. A migration that uses them sets `atomic = False`."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations import AddIndex, RemoveIndex


def _postgres(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class AddIndexOnline(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        parent = AddIndexConcurrently if _postgres(schema_editor) else AddIndex
        parent.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        parent = AddIndexConcurrently if _postgres(schema_editor) else AddIndex
        parent.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexOnline(RemoveIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        parent = RemoveIndexConcurrently if _postgres(schema_editor) else RemoveIndex
        parent.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        parent = RemoveIndexConcurrently if _postgres(schema_editor) else RemoveIndex
        parent.database_backwards(self, app_label, schema_editor, from_state, to_state)
