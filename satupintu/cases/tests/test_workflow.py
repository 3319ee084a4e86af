"""The interagency workflow: stages in order, the parallel technical team, returns that pause
the clock, rejections that end the file, and who may decide what."""

from datetime import date

import pytest

from satupintu.catalog.selectors import filing_catalogue
from satupintu.cases import clock, services
from satupintu.cases.models import Application, Pause, Status, StageTask, TaskStatus
from satupintu.core.errors import Conflict, Forbidden, InvalidInput
from satupintu.core.models import AuditEntry

from .helpers import active, officer_for, pass_stage

pytestmark = pytest.mark.django_db

STAGES = ["kelengkapan", "entri", "kajian", "tinjau", "tim-teknis", "ttd", "serah"]


def test_submission_gives_tracking_number_and_starts_completeness_check(submitted):
    assert submitted.status == Status.SUBMITTED
    assert len(submitted.tracking_number) == 10
    assert [t.stage_key for t in active(submitted)] == ["kelengkapan"]
    assert submitted.sla_started_on is None and submitted.due_on is None  # the clock waits for a complete file
    assert StageTask.objects.filter(application=submitted).count() == 9  # 6 single stages + 3 technical-team tasks


def test_full_pbg_journey_reaches_approval(submitted, officers):
    for key in STAGES:
        app = pass_stage(officers, submitted, key)
        if key == "kelengkapan":
            assert app.status == Status.IN_PROCESS and app.sla_started_on is not None and app.due_on is not None
    app = Application.objects.get(pk=submitted.pk)
    assert app.status == Status.APPROVED and app.decided_at is not None
    assert not StageTask.objects.filter(application=app).exclude(status=TaskStatus.APPROVED).exists()
    actions = list(AuditEntry.objects.filter(object_id=str(app.uuid)).values_list("action", flat=True))
    assert actions[-1] == "application.approved" and "application.submitted" in actions


def test_technical_team_waits_for_every_agency(submitted, officers):
    for key in STAGES[:4]:
        pass_stage(officers, submitted, key)
    team = active(submitted, "tim-teknis")
    assert {t.agency.slug for t in team} == {"pupr", "dpmptsp", "bapenda"}
    for task in team[:2]:
        services.task_approve(actor=officer_for(officers, task), task=task)
    assert active(submitted, "ttd") == []  # one agency still reviewing
    services.task_approve(actor=officer_for(officers, team[2]), task=team[2])
    assert [t.stage_key for t in active(submitted)] == ["ttd"]


def test_one_rejection_in_the_team_rejects_and_cancels_the_rest(submitted, officers):
    for key in STAGES[:4]:
        pass_stage(officers, submitted, key)
    team = active(submitted, "tim-teknis")
    services.task_approve(actor=officer_for(officers, team[0]), task=team[0])
    app = services.task_reject(actor=officer_for(officers, team[1]), task=team[1],
                               reason="GSB kurang dari 5 m", legal_basis="Pasal 12 Perda 7/2021")
    assert app.status == Status.REJECTED
    statuses = dict(StageTask.objects.filter(application=app, stage_key="tim-teknis").values_list("agency__slug", "status"))
    assert sorted(statuses.values()) == ["approved", "cancelled", "rejected"]
    assert not StageTask.objects.filter(application=app, status__in=["active", "waiting"]).exists()
    with pytest.raises(Conflict):
        services.task_approve(actor=officer_for(officers, team[2]), task=team[2])
    # the history says which of the team's agencies decided, and the rejection's legal basis
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from satupintu.cases import selectors

    app = selectors.application_get(actor=officer_for(officers, team[0]), uuid=app.uuid)
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.history(actor=officer_for(officers, team[0]), app=app)
    assert len(queries.captured_queries) == 1  # the audit entries; the stages came with the application
    team_rows = [(r.action, r.stage) for r in rows if r.stage.startswith(team[0].name)]
    assert team_rows == [("application.stage_approved", f"{team[0].name} ({team[0].agency.short_name})"),
                         ("application.rejected", f"{team[1].name} ({team[1].agency.short_name})")]
    assert rows[-1].note == "GSB kurang dari 5 m — Dasar hukum: Pasal 12 Perda 7/2021"


@pytest.mark.parametrize("reason, legal_basis, code", [
    ("  ", "Pasal 12 Perda 7/2021", "legal_reason_missing"),
    ("GSB kurang dari 5 m", " ", "legal_basis_missing"),
    ("x" * 2001, "Pasal 12 Perda 7/2021", "reason_too_long"),
    ("GSB kurang dari 5 m", "x" * 2001, "reason_too_long"),
])
def test_reject_needs_a_reason_and_its_legal_basis_and_changes_nothing_without(submitted, officers, reason, legal_basis,
                                                                              code):
    task = active(submitted)[0]
    before = AuditEntry.objects.count()
    with pytest.raises(InvalidInput) as exc:
        services.task_reject(actor=officers["dpmptsp:front_office"], task=task, reason=reason, legal_basis=legal_basis)
    assert exc.value.code == code
    assert Application.objects.get(pk=submitted.pk).status == Status.SUBMITTED
    assert AuditEntry.objects.count() == before


def test_wrong_agency_or_role_is_refused(submitted, officers):
    task = active(submitted)[0]
    for key in ("dpmptsp:verifier", "pupr:technical_reviewer"):
        with pytest.raises(Forbidden):
            services.task_approve(actor=officers[key], task=task)
    assert active(submitted)[0].status == TaskStatus.ACTIVE


def test_return_pauses_the_clock_and_resumes_at_the_same_stage(submitted, officers, citizen, monkeypatch):
    pass_stage(officers, submitted, "kelengkapan")
    task = active(submitted, "entri")[0]
    app = services.task_return(actor=officers["dpmptsp:verifier"], task=task, reason="Foto KTP buram, unggah ulang")
    assert app.status == Status.RETURNED and app.due_on is None
    assert Pause.objects.filter(application=app, ended_on__isnull=True).exists()
    with pytest.raises(Conflict):  # nobody decides while the file is with the applicant
        services.task_approve(actor=officers["dpmptsp:verifier"], task=task)
    started = app.sla_started_on
    later = date.fromordinal(clock.today(app.agency.site).toordinal() + 7)
    monkeypatch.setattr(clock, "today", lambda site: later)
    app = services.application_resubmit(actor=citizen, application=app)
    assert app.status == Status.IN_PROCESS
    assert [t.stage_key for t in active(app)] == ["entri"]
    # the week with the applicant does not count: the due date moved by the paused working days
    from satupintu.cases import sla
    from satupintu.catalog.selectors import site_calendar

    cal = site_calendar(app.agency.site)
    pauses = list(app.pauses.values_list("started_on", "ended_on"))
    assert app.due_on == sla.due_date(cal, started, 10, sla.paused_days(pauses, later))
    assert app.due_on > sla.due_date(cal, started, 10, set())


def test_stale_revision_is_a_conflict(submitted, officers):
    task = active(submitted)[0]
    officer = officers["dpmptsp:front_office"]
    services.task_claim(actor=officer, task=task, revision=submitted.revision)
    with pytest.raises(Conflict) as exc:
        services.task_approve(actor=officer, task=task, revision=submitted.revision)  # the form predates the claim
    assert exc.value.code == "stale"


def test_claimed_stage_cannot_be_decided_by_a_colleague(submitted, officers, make_officer, agency):
    colleague = make_officer(agency, role="front_office", email="fo2@example.test")
    task = active(submitted)[0]
    services.task_claim(actor=officers["dpmptsp:front_office"], task=task)
    with pytest.raises(Conflict) as exc:
        services.task_approve(actor=colleague, task=task)
    assert exc.value.code == "claimed_by_other"
    services.task_unclaim(actor=officers["dpmptsp:front_office"], task=task)
    services.task_approve(actor=colleague, task=task)


def test_field_inspection_needs_a_report(submitted, officers):
    for key in STAGES[:3]:
        pass_stage(officers, submitted, key)
    task = active(submitted, "tinjau")[0]
    with pytest.raises(InvalidInput) as exc:
        services.task_approve(actor=officers["pupr:technical_reviewer"], task=task)
    assert exc.value.code == "report_missing"


def test_escalation_tells_head_and_mall_admin_once(submitted, officers, mall_admin, monkeypatch):
    from satupintu.notify.models import Notification

    task = active(submitted)[0]
    late = date.fromordinal(task.due_on.toordinal() + 5)
    assert services.stage_escalate_overdue(today=late) == 1
    assert services.stage_escalate_overdue(today=late) == 0
    told = set(Notification.objects.filter(event="application.overdue").values_list("recipient__email", flat=True))
    assert told == {officers["dpmptsp:head"].email, mall_admin.email}


def test_escalation_reads_who_to_tell_once_per_run(citizen, pbg, ktp, submitted, officers, mall_admin, make_officer):
    """Late stages of two agencies: each agency's heads are told of their own stages, and the
    heads and administrators are read once for the run, not once per stage."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from satupintu.notify.models import Notification

    others = [services.application_file(actor=citizen, catalogue=filing_catalogue(pbg),
                                        documents={pbg.current_version.requirements.get().id: ktp}).application
              for _ in range(3)]
    for key in STAGES[:3]:  # the first application waits at Dinas PUPR's field inspection
        pass_stage(officers, submitted, key)
    pupr_head = make_officer(officers["pupr:technical_reviewer"].agency, role="head", email="head.pupr@example.test")
    latest = max(t.due_on for app in [submitted, *others] for t in active(app))
    with CaptureQueriesContext(connection) as ctx:
        assert services.stage_escalate_overdue(today=date.fromordinal(latest.toordinal() + 5)) == 4
    users = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "identity_user"')]
    assert len(users) == 2, users  # the administrators, the heads
    told = Notification.objects.filter(event="application.overdue")
    assert sorted(told.filter(recipient=officers["dpmptsp:head"]).values_list("object_id", flat=True)) == sorted(
        str(a.uuid) for a in others)
    assert list(told.filter(recipient=pupr_head).values_list("object_id", flat=True)) == [str(submitted.uuid)]
    assert told.filter(recipient=mall_admin).count() == 4


def test_escalate_overdue_command_and_task(submitted, officers, mall_admin):
    from io import StringIO

    from django.core.management import call_command

    from satupintu.cases.tasks import escalate_overdue

    task = active(submitted)[0]
    out = StringIO()
    call_command("escalate_overdue", "--today", str(date.fromordinal(task.due_on.toordinal() + 3)), stdout=out)
    assert out.getvalue().startswith("1 tahap terlambat")
    assert escalate_overdue.func() == 0  # already escalated; and today the stage is not late
    task.refresh_from_db()
    assert task.escalated_at is not None


def test_eligibility_is_enforced_at_submission(agency, officers, make_officer):
    from satupintu.cases.tests.factories import PDF
    from satupintu.catalog.models import DocumentType
    from satupintu.catalog.tests.factories import make_service
    from satupintu.identity.services import citizen_register
    from satupintu.vault.services import document_upload

    local_only = make_service(agency, slug="izin-lokal", region_prefixes=["14.71"])
    kampar = citizen_register(actor=None, full_name="Budi", password="Sandi-Rahasia-2026", nik="1401021203880002",
                              email="budi@example.test")
    doc = document_upload(actor=kampar, owner=kampar, document_type=DocumentType.objects.get(code="ktp-el"), name="k.pdf", data=PDF)
    app = services.application_create(actor=kampar, service=local_only).application
    services.application_attach(actor=kampar, application=app, requirement=local_only.current_version.requirements.get(), document=doc)
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(actor=kampar, application=app)
    assert exc.value.code == "not_eligible" and exc.value.details["reasons"][0]["code"] == "domicile"
    app.refresh_from_db()
    assert app.status == Status.DRAFT and app.tracking_number is None


def test_business_applicant_needs_name_and_nib(citizen, pbg, ktp, officers):
    app = services.application_create(actor=citizen, service=pbg, applicant_type="badan_usaha").application
    services.application_attach(actor=citizen, application=app, requirement=pbg.current_version.requirements.get(), document=ktp)
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(actor=citizen, application=app)
    assert set(exc.value.details) == {"business_name", "nib"}
    with pytest.raises(InvalidInput):
        services.application_update(actor=citizen, application=app, nib="123")
    services.application_update(actor=citizen, application=app, business_name="CV Maju Jaya", nib="9120001234567")
    assert services.application_submit(actor=citizen, application=app).status == Status.SUBMITTED


def test_fiktif_positif_is_shown_once_the_legal_deadline_passed(pbg, citizen, ktp, officers):
    from satupintu.cases import selectors
    from satupintu.catalog import services as catalog_services
    from satupintu.catalog.tests.factories import SYSTEM

    draft = catalog_services.service_draft_start(actor=SYSTEM, service=pbg)
    catalog_services.service_draft_update(actor=SYSTEM, version=draft, changes={"deemed_approval": True})
    catalog_services.service_version_publish(actor=SYSTEM, version=draft)
    pbg.refresh_from_db()
    app = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={pbg.current_version.requirements.get().id: ktp}).application
    app = pass_stage(officers, app, "kelengkapan")
    assert app.version.deemed_approval and app.version.number == 2
    assert not selectors.deemed_approved(app, today=app.due_on)
    assert selectors.deemed_approved(app, today=date.fromordinal(app.due_on.toordinal() + 1))


def test_a_draft_of_a_retired_service_cannot_be_submitted(citizen, pbg, ktp, officers):
    from satupintu.catalog import services as catalog_services
    from satupintu.catalog.tests.factories import SYSTEM

    app = services.application_create(actor=citizen, service=pbg).application
    services.application_attach(actor=citizen, application=app, requirement=pbg.current_version.requirements.get(), document=ktp)
    assert str(app).startswith("draf ")  # a draft has no tracking number yet
    catalog_services.service_retire(actor=SYSTEM, service=pbg)
    with pytest.raises(InvalidInput) as exc:
        services.application_submit(actor=citizen, application=app)
    assert exc.value.code == "service_unavailable"
    app.refresh_from_db()
    assert app.status == Status.DRAFT and not StageTask.objects.filter(application=app).exists()


def test_resubmission_checks_the_fields_changed_while_returned(submitted, officers, citizen):
    task = active(submitted, "kelengkapan")[0]
    app = services.task_return(actor=officers["dpmptsp:front_office"], task=task, reason="Lengkapi data")
    services.application_update(actor=citizen, application=app, applicant_type="badan_usaha")
    with pytest.raises(InvalidInput) as exc:
        services.application_resubmit(actor=citizen, application=app)
    assert exc.value.code == "incomplete" and set(exc.value.details) == {"business_name", "nib"}
    app.refresh_from_db()
    assert app.status == Status.RETURNED


def test_an_over_long_approval_note_is_refused_not_cut(submitted, officers):
    task = active(submitted, "kelengkapan")[0]
    with pytest.raises(InvalidInput) as exc:
        services.task_approve(actor=officers["dpmptsp:front_office"], task=task, note="x" * 2001)
    assert exc.value.code == "note_too_long"
    task.refresh_from_db()
    assert task.status == TaskStatus.ACTIVE and task.note == ""


@pytest.mark.parametrize("path", ["file", "draft"])
def test_a_drawn_tracking_number_that_is_taken_is_drawn_again(path, submitted, citizen, pbg, ktp, monkeypatch):
    """A drawn number already on file is drawn again (both ways of filing)."""
    from satupintu.core import ids

    drawn = iter([submitted.tracking_number[:-1], "7" * 9])
    monkeypatch.setattr(services.ids, "new_code", lambda length: (lambda b: b + ids.check_char(b))(next(drawn)))
    requirement = pbg.current_version.requirements.get()
    if path == "file":
        app = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={requirement.id: ktp},
                                        idempotency_key="taken-number").application
    else:
        app = services.application_create(actor=citizen, service=pbg).application
        services.application_attach(actor=citizen, application=app, requirement=requirement, document=ktp)
        before = Application.objects.get(pk=app.pk).revision
        app = services.application_submit(actor=citizen, application=app)
        assert Application.objects.get(pk=app.pk).revision == before + 1
    app.refresh_from_db()
    assert app.tracking_number == "7" * 9 + ids.check_char("7" * 9) != submitted.tracking_number
    assert app.status == Status.SUBMITTED and StageTask.objects.filter(application=app).count() == 9
    entry = AuditEntry.objects.filter(action="application.submitted", object_id=str(app.uuid)).get()
    assert entry.changes["tracking_number"] == app.tracking_number


def test_late_from_the_day_after_the_deadline_even_on_a_weekend(submitted):
    from satupintu.cases import selectors

    site, friday = submitted.agency.site, date(2026, 12, 4)
    on_the_day = selectors.deadline(site, friday, today=friday)
    assert (on_the_day.overdue, on_the_day.due_soon, on_the_day.days_left) == (False, True, 0)
    saturday = selectors.deadline(site, friday, today=date(2026, 12, 5))  # no working day has passed yet
    assert (saturday.overdue, saturday.due_soon, saturday.days_late) == (True, False, 0)
    monday = selectors.deadline(site, friday, today=date(2026, 12, 7))
    assert (monday.overdue, monday.days_late) == (True, 1)


def test_a_stage_returned_on_its_last_day_is_due_again_the_day_it_resumes(submitted, officers, citizen, monkeypatch):
    from datetime import timedelta

    from satupintu.cases import selectors
    from satupintu.catalog.selectors import site_calendar

    app = pass_stage(officers, submitted, "kelengkapan")
    task = active(app, "entri")[0]
    last_day = task.due_on
    monkeypatch.setattr(clock, "today", lambda site: last_day)
    app = services.task_return(actor=officers["dpmptsp:verifier"], task=task, reason="Foto KTP buram")
    cal = site_calendar(app.agency.site)
    resumed = last_day + timedelta(days=3)
    while not cal.is_working_day(resumed):
        resumed += timedelta(days=1)
    monkeypatch.setattr(clock, "today", lambda site: resumed)
    app = services.application_resubmit(actor=citizen, application=app)
    task = active(app, "entri")[0]
    # the day it went back to the applicant was its last one: that day comes back on resuming
    assert task.due_on == resumed
    assert not selectors.deadline(app.agency.site, task.due_on, today=resumed).overdue


@pytest.mark.parametrize("field,value", [
    ("nib", "１２３４５６７８９０１２３"),  # fullwidth digits: 13 "digits" to \d, not to a registry
    ("nib", "٩١٢٠٠٠١٢٣٤٥٦٧"),  # Arabic-Indic digits
    ("npwp", "xxxxxxxxxxxxxxxxxxxx"),  # letters were dropped and an empty NPWP stored
    ("npwp", "01.234.567.8-901.000x"),
])
def test_nib_and_npwp_take_ascii_digits_and_separators_only(citizen, pbg, field, value):
    app = services.application_create(actor=citizen, service=pbg, applicant_type="badan_usaha").application
    with pytest.raises(InvalidInput) as exc:
        services.application_update(actor=citizen, application=app, **{field: value})
    assert set(exc.value.details) == {field}
    app.refresh_from_db()
    assert getattr(app, field) == "" and app.revision == 0


def test_separators_are_dropped_and_an_update_that_changes_nothing_is_no_change(citizen, pbg):
    app = services.application_create(actor=citizen, service=pbg, applicant_type="badan_usaha").application
    app = services.application_update(actor=citizen, application=app, npwp="01.234.567.8-901.000", nib="9120 0012 3456 7")
    assert (app.npwp, app.nib, app.revision) == ("012345678901000", "9120001234567", 1)
    for same in ({}, {"npwp": "012345678901000"}, {"applicant_type": "badan_usaha"}):
        services.application_update(actor=citizen, application=app, **same)
    app.refresh_from_db()
    assert app.revision == 1 and AuditEntry.objects.filter(action="application.updated").count() == 1
