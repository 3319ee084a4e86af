from django.db import migrations, models

from satupintu.core.migration_ops import AddIndexOnline


class Migration(migrations.Migration):
    # built without blocking writes on PostgreSQL
    atomic = False

    dependencies = [
        ('notify', '0005_requeue_stuck_sends'),
    ]

    operations = [
        AddIndexOnline(
            model_name='webhookdelivery',
            index=models.Index(fields=['created_at', 'id'], name='notify_delivery_age'),
        ),
    ]
