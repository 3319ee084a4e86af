from django.tasks import task

from satupintu.core.permissions import SystemActor

from . import selectors, services


@task()
def close_queue_day(day: str | None = None) -> dict:
    """Background version of `manage.py close_queue_day` (queued daily at QUEUE_DAY_CLOSE_AT by `run_schedule`)."""
    from datetime import date

    site = selectors.site_required()  # a clear error before any profile is loaded
    target = date.fromisoformat(day) if day else services.local_day(site)
    return services.queue_day_close(actor=SystemActor("close_queue_day"), site=site, day=target)
