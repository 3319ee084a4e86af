from django.tasks import task

from satupintu.catalog.selectors import site_current
from satupintu.core.permissions import SystemActor

from . import services


@task()
def close_queue_day(day: str | None = None) -> dict:
    """Background version of `manage.py close_queue_day` (enqueue it from a scheduler at closing time)."""
    from datetime import date

    site = site_current()
    target = date.fromisoformat(day) if day else services.local_day(site)
    return services.queue_day_close(actor=SystemActor("close_queue_day"), site=site, day=target)
