import uuid

from django.db import migrations, models


def first_row(apps, schema_editor):
    apps.get_model("catalog", "CatalogueRevision").objects.get_or_create(pk=1)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0007_workflow"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogueRevision",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.UUIDField(default=uuid.uuid4)),
            ],
            options={"verbose_name": "revisi katalog", "verbose_name_plural": "revisi katalog"},
        ),
        migrations.RunPython(first_row, migrations.RunPython.noop),
    ]
