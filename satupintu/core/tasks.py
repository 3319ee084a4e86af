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
