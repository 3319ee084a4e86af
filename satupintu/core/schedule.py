"""The platform's periodic work, queued as background tasks at fixed times, so that a deployment
needs no cron: `manage.py run_schedule`, one per deployment, beside the task workers
(`manage.py db_worker`), which run what it queues. Every job is safe to run late or twice; a
time missed while the scheduler was stopped is not made up (the next one comes as usual), and
a time whose queueing failed is tried again every minute."""

import logging
import time as time_module
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)
UTC = ZoneInfo("UTC")
RETRY = timedelta(minutes=1)

EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday at midnight: intervals count from here


@dataclass(frozen=True)
class Job:
    """A task (dotted path) queued every `every` (on the clock: every 15 minutes means :00,
    :15, :30, :45) or daily `at` a time of the site's clock."""

    name: str
    task: str
    every: timedelta | None = None
    at: time | None = None
    kwargs: dict = field(default_factory=dict)
    dated: bool = False  # the task is given the day it was due for (`day`, the site's date), run it when it may

    def arguments(self, due: datetime, tz: ZoneInfo) -> dict:
        """The task's arguments for the time `due`. A dated job is given the site's date of that
        time, or of the evening before for a time before noon (closing at 00:30 closes the day
        that just ended)."""
        if not self.dated:
            return dict(self.kwargs)
        local = due.astimezone(tz)
        day = local.date() - timedelta(days=1) if local.time() < time(12, 0) else local.date()
        return {**self.kwargs, "day": day.isoformat()}

    def next_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first time strictly after `moment` (aware) that this job is due. Intervals count
        from midnight UTC (in a whole-hour zone such as WIB, WITA or WIT, on the local hour)."""
        if self.every is not None:
            steps = (moment - EPOCH) // self.every + 1
            return EPOCH + steps * self.every
        instant = moment.astimezone(UTC)
        day = moment.astimezone(tz).date()
        for days in range(3):  # compared as instants: one local time can come twice when clocks go back
            due = datetime.combine(day + timedelta(days=days), self.at, tzinfo=tz)
            if due.astimezone(UTC) > instant:
                return due
        raise AssertionError("a daily time always comes within two days")

    def describe(self) -> str:
        if self.every is not None:
            minutes = int(self.every.total_seconds() // 60)
            return f"setiap {minutes} menit" if minutes < 60 else f"setiap {minutes // 60} jam"
        return f"setiap hari pukul {self.at:%H:%M}"


def _clock(value: str, name: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} harus berupa jam HH:MM, bukan {value!r}") from None


def jobs() -> list[Job]:
    """The schedule: what cron would otherwise run (README, "Production in short")."""
    return [
        Job("audit_seal", "satupintu.core.tasks.audit_seal", every=timedelta(minutes=5)),
        Job("notify_requeue", "satupintu.notify.tasks.requeue_emails", every=timedelta(minutes=15)),
        Job("webhook_requeue", "satupintu.notify.tasks.requeue_webhook_deliveries", every=timedelta(minutes=15)),
        Job("escalate_overdue", "satupintu.cases.tasks.escalate_overdue", every=timedelta(hours=1)),
        Job("ratelimit_prune", "satupintu.core.tasks.ratelimit_prune", every=timedelta(hours=1)),
        Job("vault_sweep", "satupintu.vault.tasks.vault_sweep", at=_clock(settings.SATUPINTU_VAULT_SWEEP_AT, "VAULT_SWEEP_AT")),
        Job("prune_task_results", "satupintu.core.tasks.prune_task_results", at=time(3, 0)),
        Job("webhook_prune", "satupintu.notify.tasks.prune_webhook_deliveries", at=time(3, 15)),
        Job("notify_prune", "satupintu.notify.tasks.prune_notifications", at=time(3, 30)),
        Job("close_queue_day", "satupintu.queueing.tasks.close_queue_day",
            at=_clock(settings.SATUPINTU_QUEUE_DAY_CLOSE_AT, "QUEUE_DAY_CLOSE_AT"), dated=True),
    ]


def site_zone() -> ZoneInfo:
    """The mall's clock (its site's time zone), or TIME_ZONE before a profile is loaded."""
    from satupintu.catalog.selectors import site_current

    site = site_current()
    return ZoneInfo(getattr(site, "timezone", "") or settings.TIME_ZONE)


def enqueue(job: Job, due: datetime, tz: ZoneInfo):
    """Queue `job` for its time `due` (a worker may run it later: a dated job still closes the
    day it was due for, not the day the worker gets to it)."""
    return import_string(job.task).enqueue(**job.arguments(due, tz))


def run(*, schedule: list[Job] | None = None, now: Callable[[], datetime] = timezone.now,
        sleep: Callable[[float], None] = time_module.sleep, running: Callable[[], bool] = lambda: True,
        tz: ZoneInfo | None = None, on_queued: Callable[[Job, datetime], None] | None = None) -> None:
    """Queue each job when it is due, until `running()` is false. A job that cannot be queued
    (the database is away) is logged and tried again every minute for the same time; the
    others go on."""
    schedule = jobs() if schedule is None else schedule
    tz = tz or site_zone()
    due = {job.name: job.next_after(now(), tz) for job in schedule}
    retry: dict[str, datetime] = {}  # jobs whose queueing failed: when to try again
    while running():
        moment = now()
        for job in schedule:
            if retry.get(job.name, due[job.name]) > moment:
                continue
            close_old_connections()  # a connection the database dropped meanwhile is opened again
            try:
                enqueue(job, due[job.name], tz)
            except Exception:  # noqa: BLE001 — the scheduler outlives a bad minute of the database
                log.exception("schedule: %s could not be queued; trying again in a minute", job.name)
                retry[job.name] = moment + RETRY  # for the same due time: a dated job keeps its day
                continue
            if on_queued:
                on_queued(job, moment)
            due[job.name] = job.next_after(moment, tz)
            retry.pop(job.name, None)
        wait = (min({**due, **retry}.values()) - now()).total_seconds()
        sleep(min(max(wait, 0.0), 60.0))
