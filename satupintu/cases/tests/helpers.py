from satupintu.cases import services
from satupintu.cases.models import StageTask, TaskStatus
from satupintu.catalog.models import DocumentType
from satupintu.vault.services import document_upload

from .factories import PDF


def officer_for(officers, task):
    return officers[f"{task.agency.slug}:{task.role}"]


def active(app, key=None):
    qs = StageTask.objects.filter(application=app, status=TaskStatus.ACTIVE).select_related("agency", "application")
    return list(qs.filter(stage_key=key) if key else qs)


def bap(officer, app):
    return services.application_upload(actor=officer, application=app, document_type=DocumentType.objects.get(code="bap"),
                                       name="bap.pdf", data=PDF)


def pass_stage(officers, app, key):
    """Every agency of stage `key` approves."""
    result = None
    for task in active(app, key):
        officer = officer_for(officers, task)
        report = bap(officer, app) if task.kind == "field_inspection" else None
        result = services.task_approve(actor=officer, task=task, report=report)
    return result
