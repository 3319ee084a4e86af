"""The catalogue's revision token moves to `core.Revision` ("catalogue"), beside the identity and
webhooks revisions that web processes check their copies against (`core.revisions`)."""

import secrets

from django.db import migrations


def catalogue_row(apps, schema_editor):
    apps.get_model("core", "Revision").objects.update_or_create(name="catalogue", defaults={"token": secrets.token_hex(16)})


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0008_cataloguerevision"),
        ("core", "0003_revision"),
    ]

    operations = [
        migrations.RunPython(catalogue_row, migrations.RunPython.noop),
        migrations.DeleteModel(name="CatalogueRevision"),
    ]
