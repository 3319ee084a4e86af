"""Engine-specific full-text index of the catalogue: SQLite FTS5 table kept in sync by
triggers, or a PostgreSQL GIN index over the weighted tsvector (see catalog/search.py)."""

from django.db import migrations

from satupintu.catalog.search import create_schema, drop_schema


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_initial")]
    operations = [migrations.RunPython(create_schema, drop_schema)]
