from django.db import migrations, models

from satupintu.core.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    # built without blocking writes on PostgreSQL
    atomic = False

    dependencies = [
        ('notify', '0006_delivery_age_index'),
    ]

    operations = [
        AddIndexOnline(
            model_name='notification',
            index=models.Index(fields=['created_at', 'id'], name='notify_age'),
        ),
    ]
