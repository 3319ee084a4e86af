from django.tasks import task

from . import audit, ratelimit


@task()
def audit_seal() -> int:
    """Background version of `manage.py audit_seal`: link pending audit entries into the chain."""
    return audit.seal_all()


@task()
def ratelimit_prune() -> int:
    """Delete rate-limit counters whose window has passed."""
    return ratelimit.prune()


@task()
def prune_task_results(min_age_days: int = 14) -> None:
    """Delete the results of background tasks finished more than `min_age_days` ago: the task
    table keeps every one (an e-mail task per filing, the schedule's own), so it would grow without end."""
    from django.core.management import call_command

    call_command("prune_db_task_results", min_age_days=min_age_days, queue_name="*", verbosity=0)
