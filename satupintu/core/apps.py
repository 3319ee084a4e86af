from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_revision_triggers(sender, using="default", **kwargs):
    from django.db import connections

    from . import revisions

    revisions.install_triggers(connections[using])


class CoreConfig(AppConfig):
    name = "satupintu.core"
    label = "core"
    verbose_name = "Inti"

    def ready(self):
        # after every migrate: the triggers that keep the revision tokens (`core.revisions`)
        post_migrate.connect(_install_revision_triggers, sender=self, dispatch_uid="core_revision_triggers")
