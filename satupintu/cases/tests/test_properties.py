"""Invariants checked on many generated cases (hypothesis): the SLA clock never counts a day it
must not, and no sequence of decisions leaves an application in an invalid state."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from satupintu.catalog.selectors import filing_catalogue
from satupintu.cases import services, sla
from satupintu.cases.models import Application, Pause, StageTask, Status, TaskStatus
from satupintu.core.calendar import WorkingCalendar, national_days
from satupintu.core.errors import DomainError

CLOSURES = {date(2026, 6, 15): "Banjir", date(2027, 2, 3): "Pemeliharaan gedung"}
CAL = WorkingCalendar(CLOSURES)

days_in = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 6, 30))
pauses_st = st.lists(st.tuples(days_in, st.integers(0, 20)), max_size=3).map(
    lambda ps: [(d, d + timedelta(days=n)) for d, n in ps])


def never_counted(d: date, paused: set[date]) -> bool:
    return d.weekday() >= 5 or d in national_days(d.year) or d in CLOSURES or d in paused


@settings(max_examples=300, deadline=None)
@given(start=days_in, n=st.integers(0, 40), pauses=pauses_st)
def test_due_date_counts_exactly_n_allowed_days(start, n, pauses):
    paused = sla.paused_days(pauses, start + timedelta(days=400))
    due = sla.due_date(CAL, start, n, paused)
    if n == 0:  # "same day": the start, or the first day that counts after it
        assert all(never_counted(start + timedelta(days=i), paused) for i in range((due - start).days))
        assert not never_counted(due, paused)
        return
    counted = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)
               if not never_counted(start + timedelta(days=i), paused)]
    assert len(counted) == n
    assert not never_counted(due, paused)  # the deadline falls on a working, unpaused day
    assert sla.elapsed(CAL, start, due, paused) == n


@settings(max_examples=200, deadline=None)
@given(start=days_in, span=st.integers(0, 60), pauses=pauses_st)
def test_elapsed_skips_weekends_holidays_cuti_bersama_closures_and_pauses(start, span, pauses):
    end = start + timedelta(days=span)
    paused = sla.paused_days(pauses, end)
    expected = sum(1 for i in range(1, span + 1) if not never_counted(start + timedelta(days=i), paused))
    assert sla.elapsed(CAL, start, end, paused) == expected


def test_cuti_bersama_2026_is_not_counted():
    # Idul Fitri 2026: 20–21 March are public holidays, 18, 19, 23 and 24 March cuti bersama
    assert sla.due_date(CAL, date(2026, 3, 17), 1, set()) == date(2026, 3, 25)


ACTIONS = ["approve", "return", "reject", "claim", "unclaim", "resubmit", "wrong_officer"]


def check_invariants(app: Application) -> None:
    tasks = list(StageTask.objects.filter(application=app))
    by_stage: dict[str, list[StageTask]] = {}
    for t in tasks:
        by_stage.setdefault(t.stage_key, []).append(t)
    passed = {k for k, ts in by_stage.items() if all(t.status == TaskStatus.APPROVED for t in ts)}
    open_pauses = Pause.objects.filter(application=app, ended_on__isnull=True).count()
    assert app.status in (Status.SUBMITTED, Status.IN_PROCESS, Status.RETURNED, Status.APPROVED, Status.REJECTED)
    assert open_pauses == (1 if app.status == Status.RETURNED else 0)
    for t in tasks:
        if t.status == TaskStatus.ACTIVE:  # the inbox shows exactly the active stages of open files
            assert (t.due_on is not None) == (app.status in (Status.SUBMITTED, Status.IN_PROCESS))
        if t.status in (TaskStatus.ACTIVE, TaskStatus.APPROVED, TaskStatus.REJECTED):
            assert set(t.after) <= passed, f"{t.stage_key} started before {t.after}"
    if app.status == Status.APPROVED:
        assert all(t.status == TaskStatus.APPROVED for t in tasks)
    elif app.status == Status.REJECTED:
        assert sum(t.status == TaskStatus.REJECTED for t in tasks) == 1
        assert not any(t.status in (TaskStatus.ACTIVE, TaskStatus.WAITING) for t in tasks)
    else:
        assert any(t.status == TaskStatus.ACTIVE for t in tasks)
        assert not any(t.status in (TaskStatus.REJECTED, TaskStatus.CANCELLED) for t in tasks)
    assert (app.sla_started_on is not None) == ("kelengkapan" in passed)
    if app.status == Status.IN_PROCESS:
        assert app.due_on is not None
    if app.status == Status.RETURNED:
        assert app.due_on is None


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 8)), min_size=1, max_size=30))
def test_no_sequence_of_decisions_reaches_an_invalid_state(submitted, officers, citizen, pbg, ktp, steps):
    app = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={pbg.current_version.requirements.get().id: ktp}).application
    people = list(officers.values())
    for action, pick in steps:
        app.refresh_from_db()
        active = list(StageTask.objects.filter(application=app, status=TaskStatus.ACTIVE).select_related("agency"))
        task = active[pick % len(active)] if active else StageTask.objects.filter(application=app).first()
        right = officers.get(f"{task.agency.slug}:{task.role}")
        before = (app.status, app.revision)
        try:
            if action == "approve":
                report = None
                if task.kind == "field_inspection":
                    from .helpers import bap

                    report = bap(right, app)
                services.task_approve(actor=right, task=task, report=report)
            elif action == "return":
                services.task_return(actor=right, task=task, reason="Perbaiki berkas")
            elif action == "reject":
                services.task_reject(actor=right, task=task, reason="Tidak sesuai", legal_basis="Pasal 3 ayat 1")
            elif action == "claim":
                services.task_claim(actor=right, task=task)
            elif action == "unclaim":
                services.task_unclaim(actor=right, task=task)
            elif action == "resubmit":
                services.application_resubmit(actor=citizen, application=app)
            else:
                services.task_approve(actor=people[pick % len(people)], task=task)
        except DomainError:
            app.refresh_from_db()
            assert (app.status, app.revision) == before  # a refused decision changes nothing
        app.refresh_from_db()
        check_invariants(app)
