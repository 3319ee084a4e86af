from django.db import migrations


def add_bap(apps, schema_editor):
    DocumentType = apps.get_model("catalog", "DocumentType")
    DocumentType.objects.get_or_create(
        code="bap", defaults={"name": "Berita Acara Pemeriksaan (BAP) tinjau lapangan",
                              "description": "Laporan tim teknis setelah tinjau lapangan."})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial"), ("catalog", "0007_workflow")]
    operations = [migrations.RunPython(add_bap, migrations.RunPython.noop)]
