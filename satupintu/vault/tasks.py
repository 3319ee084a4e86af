from datetime import timedelta

from django.tasks import task

from satupintu.core.permissions import SystemActor

from . import services


@task()
def vault_sweep(minutes: int = 60) -> int:
    """Background version of `manage.py vault_sweep` (queued daily by `run_schedule`)."""
    return services.vault_sweep(actor=SystemActor("vault_sweep"), older_than=timedelta(minutes=minutes))
