"""The applicant and the officers are told at each step, and agency systems get a signed webhook;
sending happens after commit, so a failing send never undoes a decision."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from satupintu.catalog.selectors import filing_catalogue
from satupintu.cases import services
from satupintu.notify.models import EmailStatus, Notification, WebhookDelivery
from satupintu.notify.services import webhook_endpoint_create

from .helpers import active, pass_stage

pytestmark = pytest.mark.django_db


def events_of(user):
    return list(Notification.objects.filter(recipient=user).order_by("created_at", "id").values_list("event", flat=True))


def test_applicant_is_told_at_each_step(submitted, officers, citizen):
    assert events_of(citizen) == ["application.submitted"]
    assert events_of(officers["dpmptsp:front_office"]) == ["application.stage_assigned"]
    pass_stage(officers, submitted, "kelengkapan")
    assert events_of(citizen)[-1] == "application.stage_passed"
    assert events_of(officers["dpmptsp:verifier"]) == ["application.stage_assigned"]
    task = active(submitted, "entri")[0]
    services.task_return(actor=officers["dpmptsp:verifier"], task=task, reason="Scan KTP terpotong")
    note = Notification.objects.filter(recipient=citizen).latest("id")
    assert note.event == "application.returned" and note.context["reason"] == "Scan KTP terpotong"
    assert note.context["tracking_number"] == submitted.tracking_number and note.link == f"/permohonan/{submitted.uuid}/"
    services.application_resubmit(actor=citizen, application=submitted)
    services.task_reject(actor=officers["dpmptsp:verifier"], task=task, reason="Bukan kewenangan",
                         legal_basis="Pasal 10 Perda 1/2024")
    assert events_of(citizen)[-2:] == ["application.resubmitted", "application.rejected"]


def test_webhooks_go_to_every_agency_on_the_file(agency, pbg, officers, citizen, ktp, mall_admin):
    from satupintu.catalog.models import Agency

    pupr = Agency.objects.get(slug="pupr")
    webhook_endpoint_create(actor=mall_admin, agency=pupr, url="https://simbg.example.test/hook",
                            events=["application.submitted"])
    app = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg), documents={pbg.current_version.requirements.get().id: ktp}).application
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "application.submitted" and delivery.payload["tracking_number"] == app.tracking_number
    assert {"stage_key": "tim-teknis", "status": "waiting", "agency": "pupr"} in delivery.payload["stages"]
    # the fields docs/notifications.md lists, and no ORM-style names
    assert set(delivery.payload) == {"application", "tracking_number", "service", "status", "due_on", "stages"}
    assert all(set(stage) == {"stage_key", "status", "agency"} for stage in delivery.payload["stages"])


def test_a_failing_email_queue_does_not_roll_back_the_decision(submitted, officers, monkeypatch,
                                                               django_capture_on_commit_callbacks):
    from satupintu.notify import tasks

    calls = []

    class Broken:
        name = "send_notification_emails"

        def enqueue(self, *args, **kwargs):
            calls.append(args)
            raise RuntimeError("task queue down")

    monkeypatch.setattr(tasks, "send_notification_emails", Broken())
    task = active(submitted)[0]
    with django_capture_on_commit_callbacks(execute=True):
        app = services.task_approve(actor=officers["dpmptsp:front_office"], task=task)
    assert app.status == "in_process" and len(calls) == 1  # the queue was tried once, and failed


def test_a_filing_tells_applicant_and_officers_with_one_insert_and_one_email_task(
    citizen, pbg, ktp, officers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with CaptureQueriesContext(connection) as queries:
            app = services.application_file(actor=citizen, catalogue=filing_catalogue(pbg),
                                            documents={pbg.current_version.requirements.get().id: ktp}).application
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith('INSERT INTO "NOTIFY_NOTIFICATION"')]
    assert len(inserts) == 1
    notes = list(Notification.objects.order_by("id"))
    assert [(n.recipient_id, n.event) for n in notes] == [
        (citizen.pk, "application.submitted"), (officers["dpmptsp:front_office"].pk, "application.stage_assigned")]
    assert notes[0].link == f"/permohonan/{app.uuid}/" and notes[1].link != notes[0].link
    assert notes[1].context["applicant_name"] == citizen.full_name and all(n.email_status == EmailStatus.PENDING for n in notes)
    [queued] = DBTaskResult.objects.all()  # one task, both emails; nothing under the one-email task's name
    assert queued.task_path == "satupintu.notify.tasks.send_notification_emails"
    assert queued.args_kwargs["args"] == [[str(n.uuid) for n in notes]]


def test_a_passed_stage_tells_applicant_and_next_officers_in_one_insert(submitted, officers, citizen,
                                                                         django_capture_on_commit_callbacks):
    DBTaskResult.objects.all().delete()
    before = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        with CaptureQueriesContext(connection) as queries:
            pass_stage(officers, submitted, "kelengkapan")
    inserts = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith('INSERT INTO "NOTIFY_NOTIFICATION"')]
    new = list(Notification.objects.order_by("id")[before:])
    assert len(inserts) == 1 and [n.event for n in new] == ["application.stage_passed", "application.stage_assigned"]
    assert [n.recipient_id for n in new] == [citizen.pk, officers["dpmptsp:verifier"].pk]
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs["args"] == [[str(n.uuid) for n in new]]


def _latest(user):
    return Notification.objects.filter(recipient=user).latest("id")


def _body(note, language="id") -> str:
    from django.utils import translation

    from satupintu.notify.events import render

    with translation.override(language):
        return render(note.event, note.context)[1]


def test_the_applicant_reads_a_due_date_only_while_there_is_one_and_never_on_the_decision(submitted, officers, citizen):
    filed = _latest(citizen)  # the SLA clock has not started: no due date, and no empty line
    assert "due_on" not in filed.context and "Batas waktu" not in _body(filed)
    pass_stage(officers, submitted, "kelengkapan")
    submitted.refresh_from_db()
    passed = _latest(citizen)  # the clock runs: the application's due date
    assert passed.context["due_on"] == submitted.due_on.isoformat() and "Batas waktu: " in _body(passed)
    task = active(submitted, "entri")[0]
    services.task_return(actor=officers["dpmptsp:verifier"], task=task, reason="Scan KTP terpotong")
    returned = _latest(citizen)  # paused: none
    assert "due_on" not in returned.context and "Batas waktu" not in _body(returned)
    assert "Deadline" not in _body(returned, "en")
    services.application_resubmit(actor=citizen, application=submitted)
    services.task_reject(actor=officers["dpmptsp:verifier"], task=task, reason="Bukan kewenangan", legal_basis="Pasal 10 Perda 1/2024")
    rejected = _latest(citizen)
    assert rejected.event == "application.rejected" and "due_on" not in rejected.context
    assert "Batas waktu" not in _body(rejected)


def test_an_approval_does_not_show_the_applications_due_date(submitted, officers, citizen):
    for key in ("kelengkapan", "entri", "kajian", "tinjau", "tim-teknis", "ttd", "serah"):
        pass_stage(officers, submitted, key)
    approved = _latest(citizen)
    assert approved.event == "application.approved" and "due_on" not in approved.context
    assert "Batas waktu" not in _body(approved) and "Deadline" not in _body(approved, "en")


def test_a_parallel_stage_tells_each_agencys_officers_of_their_own_task(submitted, officers, citizen,
                                                                        django_capture_on_commit_callbacks):
    """The technical team (PUPR, DPMPTSP, Bapenda) starts at once: each agency's reviewers get a
    message naming their stage, their agency and their task's deadline (not the application's).
    The officers of the three tasks are read in one query; every message is one INSERT."""
    from satupintu.cases.models import StageTask

    for key in ("kelengkapan", "entri", "kajian"):
        pass_stage(officers, submitted, key)
    before = Notification.objects.count()
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        with CaptureQueriesContext(connection) as queries:
            pass_stage(officers, submitted, "tinjau")
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if s.lstrip().upper().startswith('INSERT INTO "NOTIFY_NOTIFICATION"')]) == 1
    assert len([s for s in sql if 'FROM "identity_user"' in s and '"identity_user"."role" IN' in s]) == 1
    submitted.refresh_from_db()
    new = list(Notification.objects.order_by("id")[before:])
    assert [n.event for n in new] == ["application.stage_passed"] + ["application.stage_assigned"] * 3
    assert new[0].recipient_id == citizen.pk
    tasks = {t.agency.slug: t for t in StageTask.objects.filter(application=submitted, stage_key="tim-teknis")
             .select_related("agency")}
    told = {n.recipient_id: n for n in new[1:]}
    for slug, short in (("pupr", "PUPR"), ("dpmptsp", "DPMPTSP"), ("bapenda", "Bapenda")):
        note = told[officers[f"{slug}:technical_reviewer"].pk]
        task = tasks[slug]
        assert (note.context["stage_name"], note.context["agency_name"]) == ("Rapat tim teknis", short)
        assert note.context["due_on"] == task.due_on.isoformat() != submitted.due_on.isoformat()
        body = _body(note)
        assert f"Tahap: Rapat tim teknis. Instansi: {short}. Batas waktu: " in body, body
        assert f"Stage: Rapat tim teknis. Agency: {short}. Deadline: " in _body(note, "en")
    [queued] = DBTaskResult.objects.all()  # one email task for all of them
    assert queued.args_kwargs["args"] == [[str(n.uuid) for n in new]]


def test_the_filing_officers_read_their_stages_deadline_not_the_applications(submitted, officers):
    """Before the SLA clock starts the application has no due date; the completeness check has its own."""
    from satupintu.cases.models import StageTask

    note = _latest(officers["dpmptsp:front_office"])
    task = StageTask.objects.get(application=submitted, stage_key="kelengkapan")
    assert submitted.due_on is None and note.context["due_on"] == task.due_on.isoformat()
    assert (note.context["stage_name"], note.context["agency_name"]) == ("Pemeriksaan kelengkapan", "DPMPTSP")


def test_a_resubmission_reads_the_agencies_of_its_tasks_once(submitted, officers, citizen):
    """The file goes back to the technical team: its three agencies' reviewers are told again,
    with the agencies read in one query (the tasks are read without them)."""
    for key in ("kelengkapan", "entri", "kajian", "tinjau"):
        pass_stage(officers, submitted, key)
    task = active(submitted, "tim-teknis")[0]
    services.task_return(actor=officers[f"{task.agency.slug}:technical_reviewer"], task=task, reason="Gambar kurang")
    before = Notification.objects.count()
    with CaptureQueriesContext(connection) as queries:
        services.application_resubmit(actor=citizen, application=submitted)
    agency_reads = [q["sql"] for q in queries.captured_queries if 'FROM "catalog_agency"' in q["sql"]]
    assert len(agency_reads) == 1, agency_reads  # the tasks' agencies, in one query (not one per task)
    new = list(Notification.objects.order_by("id")[before:])
    assert sorted(n.context["agency_name"] for n in new if n.event == "application.stage_assigned") == [
        "Bapenda", "DPMPTSP", "PUPR"]
