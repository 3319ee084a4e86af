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
        # a request reads the revision tokens once (`core.revisions.current`), until it writes
        from django.core.signals import request_finished, request_started
        from django.db.backends.signals import connection_created

        from . import revisions

        request_started.connect(revisions.request_started, dispatch_uid="core_revision_request_started")
        request_finished.connect(revisions.request_finished, dispatch_uid="core_revision_request_finished")
        connection_created.connect(revisions.connection_created, dispatch_uid="core_revision_watch_writes")
