"""manage.py run_schedule: the periodic work is queued as tasks at its times, without cron."""

import io
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from satupintu.core import schedule

WIB = ZoneInfo("Asia/Jakarta")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_interval_job_is_due_on_the_clock_and_strictly_after():
    job = schedule.Job("x", "t", every=timedelta(minutes=15))
    assert job.next_after(at("2026-11-29 10:07:30"), WIB) == at("2026-11-29 10:15")
    assert job.next_after(at("2026-11-29 10:15:00"), WIB) == at("2026-11-29 10:30")
    hourly = schedule.Job("x", "t", every=timedelta(hours=1))
    assert hourly.next_after(at("2026-11-29 23:59:59"), WIB) == at("2026-11-30 00:00")


def test_a_daily_job_is_due_at_the_malls_local_time():
    job = schedule.Job("x", "t", at=time(23, 0))
    # 22:00 WIB (UTC+7) → 23:00 WIB the same evening; at or after 23:00 WIB → the next evening
    assert job.next_after(at("2026-11-29 15:00"), WIB) == at("2026-11-29 16:00")
    assert job.next_after(at("2026-11-29 16:00"), WIB) == at("2026-11-30 16:00")
    assert job.next_after(at("2026-11-29 17:30"), WIB) == at("2026-11-30 16:00")


def test_a_daily_time_when_the_clocks_go_back_or_forward_comes_once_and_in_the_future(db, monkeypatch):
    """Not WIB's case (no daylight saving), but the scheduler must not spin where there is."""
    eastern = ZoneInfo("America/New_York")
    job = schedule.Job("x", "t", at=time(1, 30))
    # 2026-11-01: 01:00-02:00 comes twice. 01:10 on the second pass (EST, 06:10 UTC) is after the
    # first 01:30 (EDT, 05:30 UTC): the next time is the next day's
    second_pass = at("2026-11-01 06:10")
    nxt = job.next_after(second_pass, eastern)
    assert nxt > second_pass and nxt.astimezone(eastern).date().isoformat() == "2026-11-02"
    # 2026-03-08: 02:00-03:00 does not exist; a job at 02:30 still comes that day, once
    spring = schedule.Job("x", "t", at=time(2, 30))
    nxt = spring.next_after(at("2026-03-08 06:00"), eastern)  # 01:00 EST
    assert at("2026-03-08 06:00") < nxt < at("2026-03-09 06:00")
    # and the loop does not queue it again and again
    clock, queued = FakeClock(second_pass), []
    monkeypatch.setattr(schedule, "enqueue", lambda job, due, tz: queued.append(due))
    schedule.run(schedule=[job], now=lambda: clock.now, sleep=clock.sleep, tz=eastern,
                 running=lambda: clock.now < second_pass + timedelta(hours=3))
    assert queued == []


def test_a_dated_job_before_noon_closes_the_evening_before():
    job = schedule.Job("x", "t", at=time(0, 30), dated=True)
    assert job.arguments(at("2026-11-29 17:30"), WIB) == {"day": "2026-11-29"}  # 00:30 WIB on the 30th
    assert schedule.Job("x", "t", at=time(23, 0), dated=True).arguments(at("2026-11-29 16:00"), WIB) == {"day": "2026-11-29"}


def test_a_time_that_could_not_be_queued_is_tried_again_each_minute_for_the_same_day(db, monkeypatch):
    clock = FakeClock(at("2026-11-29 15:59"))
    job = schedule.Job("close", "close", at=time(23, 0), dated=True)
    tries = []

    def enqueue(job, due, tz):
        tries.append((clock.now, job.arguments(due, tz)))
        if len(tries) < 3:
            raise RuntimeError("database away")

    monkeypatch.setattr(schedule, "enqueue", enqueue)
    schedule.run(schedule=[job], now=lambda: clock.now, sleep=clock.sleep, tz=WIB,
                 running=lambda: clock.now < at("2026-11-29 16:10"))
    assert [t for t, _a in tries] == [at("2026-11-29 16:00"), at("2026-11-29 16:01"), at("2026-11-29 16:02")]
    assert {a["day"] for _t, a in tries} == {"2026-11-29"}


class FakeClock:
    def __init__(self, start: datetime):
        self.now, self.slept = start, []

    def sleep(self, seconds: float):
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def test_run_queues_each_job_at_its_times_and_survives_one_that_fails(db, monkeypatch):
    clock = FakeClock(at("2026-11-29 15:58"))  # 22:58 WIB
    jobs = [schedule.Job("seal", "seal", every=timedelta(minutes=5)),
            schedule.Job("broken", "broken", every=timedelta(minutes=30)),
            schedule.Job("close", "close", at=time(23, 0))]
    queued = []

    def enqueue(job, due, tz):
        if job.name == "broken":
            raise RuntimeError("database away")
        assert due <= clock.now and tz is WIB
        queued.append((job.name, clock.now))

    monkeypatch.setattr(schedule, "enqueue", enqueue)
    schedule.run(schedule=jobs, now=lambda: clock.now, sleep=clock.sleep, tz=WIB,
                 running=lambda: clock.now < at("2026-11-29 16:40"))
    assert [q for q in queued if q[0] == "close"] == [("close", at("2026-11-29 16:00"))]
    assert [t for name, t in queued if name == "seal"] == [at("2026-11-29 16:00") + timedelta(minutes=5 * i) for i in range(8)]
    assert max(clock.slept) <= 60  # wakes at least every minute


def test_the_schedule_queues_real_tasks_that_the_worker_can_run(db, monkeypatch):
    """One pass at a time when every job is due: each queues its task (by its own task path)."""
    due = at("2026-11-29 16:00")  # 23:00 WIB
    for job in schedule.jobs():
        result = schedule.enqueue(job, due, WIB)
        assert result.task.module_path == job.task
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert paths == {job.task for job in schedule.jobs()}
    closing = DBTaskResult.objects.get(task_path="satupintu.queueing.tasks.close_queue_day")
    assert closing.args_kwargs["kwargs"] == {"day": "2026-11-29"}  # the day it was due for, run when it may


def test_the_periodic_tasks_run(db):
    from django.utils import timezone

    from satupintu.core.models import AuditEntry
    from satupintu.core.tasks import prune_task_results
    from satupintu.notify.tasks import requeue_emails
    from satupintu.vault.tasks import vault_sweep

    assert requeue_emails.call() == 0 and vault_sweep.call() == 0
    assert not AuditEntry.objects.filter(action="notification.emails_requeued").exists()
    old, recent = (requeue_emails.enqueue() for _ in range(2))
    DBTaskResult.objects.filter(pk__in=[old.id, recent.id]).update(status="SUCCESSFUL", finished_at=timezone.now())
    DBTaskResult.objects.filter(pk=old.id).update(finished_at=timezone.now() - timedelta(days=15))
    prune_task_results.call()
    assert {str(pk) for pk in DBTaskResult.objects.values_list("pk", flat=True)} == {str(recent.id)}


def test_lost_webhook_deliveries_are_requeued_every_quarter_hour(db):
    from satupintu.notify.tasks import requeue_webhook_deliveries

    [job] = [j for j in schedule.jobs() if j.name == "webhook_requeue"]
    assert job.every == timedelta(minutes=15) and job.task == "satupintu.notify.tasks.requeue_webhook_deliveries"
    assert requeue_webhook_deliveries.call() == 0  # nothing lost: nothing queued, nothing logged


def test_list_prints_every_job_with_its_next_time(db):
    out = io.StringIO()
    call_command("run_schedule", "--list", stdout=out)
    text = out.getvalue()
    for job in schedule.jobs():
        assert job.name in text
    assert "setiap hari pukul 23:00" in text and "setiap 15 menit" in text


def test_a_malformed_closing_time_is_a_clear_error(settings):
    settings.SATUPINTU_QUEUE_DAY_CLOSE_AT = "jam sebelas"
    with pytest.raises(ValueError, match="QUEUE_DAY_CLOSE_AT"):
        schedule.jobs()


def test_the_command_reports_a_malformed_time_without_a_traceback(db, settings):
    from django.core.management import CommandError

    settings.SATUPINTU_VAULT_SWEEP_AT = "25:99"
    with pytest.raises(CommandError, match="VAULT_SWEEP_AT"):
        call_command("run_schedule", "--list", stdout=io.StringIO())


def test_an_unmigrated_database_is_a_clear_error(monkeypatch):
    from django.core.management import CommandError
    from django.db import OperationalError

    def missing():
        raise OperationalError("no such table: catalog_site")

    monkeypatch.setattr(schedule, "site_zone", missing)
    with pytest.raises(CommandError, match="migrate"):
        call_command("run_schedule", "--list", stdout=io.StringIO())
