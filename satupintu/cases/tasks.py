from django.tasks import task

from satupintu.core.permissions import SystemActor

from . import services


@task()
def escalate_overdue() -> int:
    """Background version of `manage.py escalate_overdue` (queued hourly by `run_schedule`)."""
    return services.stage_escalate_overdue(actor=SystemActor("escalate_overdue"))
