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
    assert {"stage_key": "tim-teknis", "status": "waiting", "agency__slug": "pupr"} in delivery.payload["stages"]


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
