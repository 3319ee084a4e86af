"""PostgreSQL: a stored tsvector of the service name alone, with its own GIN index, so
"every word in the name" is an index lookup (SQLite uses an FTS5 column filter instead)."""

from django.db import migrations

from satupintu.catalog.search import create_title_schema, drop_title_schema


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_service_name_index")]
    operations = [migrations.RunPython(create_title_schema, drop_title_schema)]
