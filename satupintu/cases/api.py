"""Applications over HTTP: drafts and submission (both idempotent with an Idempotency-Key),
documents, my applications, the officer inbox, stage decisions, history and public tracking."""

from datetime import date, datetime
from uuid import UUID

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status as HttpStatus

from satupintu.catalog.selectors import document_type_get, service_for_filing
from satupintu.config.api import actor_of
from satupintu.core.errors import InvalidInput, NotFound
from satupintu.core.clock import site_today
from satupintu.core.http import client_ip
from satupintu.vault.api import DocumentOut, document_out
from satupintu.vault.models import Document
from satupintu.vault.selectors import documents_by_uuid
from satupintu.vault.services import read_upload

from . import selectors, services

router = Router(tags=["applications"])


class TaskOut(Schema):
    id: int
    stage: str
    kind: str
    name: str
    agency: str
    role: str
    status: str
    sla_days: int
    activated_on: date | None
    due_on: date | None
    claimed_by: str | None
    decided_at: datetime | None


class AttachmentOut(Schema):
    requirement: int
    document_type: str
    document: UUID
    name: str


class RequirementOut(Schema):
    id: int
    document_type: str
    name: str
    mandatory: bool


class ApplicationOut(Schema):
    uuid: UUID
    tracking_number: str | None
    service: str
    service_name: str
    agency: str
    version: int
    channel: str
    status: str
    applicant_type: str
    business_name: str
    nib: str
    npwp: str
    notes: str
    submitted_at: datetime | None
    sla_started_on: date | None
    due_on: date | None
    overdue: bool
    deemed_approved: bool
    return_reason: str
    reject_reason: str
    revision: int
    requirements: list[RequirementOut]
    documents: list[AttachmentOut]
    tasks: list[TaskOut]


class ApplicationIn(Schema):
    service: str  # UUID, or "agency-slug/service-slug"
    applicant_type: str = "perorangan"
    business_name: str = ""
    nib: str = ""
    npwp: str = ""
    notes: str = ""
    documents: dict[int, UUID] = {}  # requirement id -> vault document UUID
    submit: bool = False
    # walk-in filing by a front-office officer
    applicant_nik: str = ""
    applicant_name: str = ""
    applicant_phone: str = ""
    applicant_email: str = ""
    ticket: str = ""


class ApplicationPatch(Schema):
    applicant_type: str | None = None
    business_name: str | None = None
    nib: str | None = None
    npwp: str | None = None
    notes: str | None = None
    revision: int | None = None


class AttachIn(Schema):
    document: UUID


class RevisionIn(Schema):
    revision: int | None = None


class DecisionIn(Schema):
    note: str = ""
    reason: str = ""  # return: what to correct; reject: why
    legal_basis: str = ""  # reject: the article of the regulation the rejection rests on (required)
    report: UUID | None = None  # field inspection: the uploaded BAP (a document UUID)
    revision: int | None = None


class ApplicationPage(Schema):
    count: int
    page: int
    pages: int
    items: list[ApplicationOut]


class InboxItem(Schema):
    task: TaskOut
    application: UUID
    tracking_number: str
    service_name: str
    applicant_name: str
    submitted_at: datetime | None
    application_due_on: date | None
    days_left: int | None
    overdue: bool
    due_soon: bool


class InboxPage(Schema):
    count: int
    count_capped: bool  # more stages wait than `count` (the count stops at 1,000)
    page: int
    pages: int
    items: list[InboxItem]


class HistoryOut(Schema):
    at: datetime
    action: str
    label: str
    stage: str
    note: str


class TimelineStage(Schema):
    name: str
    agency: str
    status: str
    activated_on: date | None
    due_on: date | None
    finished_on: date | None


class TrackingOut(Schema):
    tracking_number: str
    service_name: str
    agency: str
    status: str
    status_label: str
    submitted_on: date | None
    due_on: date | None
    paused: bool
    overdue: bool
    deemed_approved: bool
    stages: list[TimelineStage]


def task_out(t) -> dict:
    return {
        "id": t.pk, "stage": t.stage_key, "kind": t.kind, "name": t.name, "agency": t.agency.slug, "role": t.role,
        "status": t.status, "sla_days": t.sla_days, "activated_on": t.activated_on, "due_on": t.due_on,
        "claimed_by": t.claimed_by.full_name if t.claimed_by_id else None, "decided_at": t.decided_at,
    }


def application_out(app, memo: dict | None = None, *, tasks=None, attachments=None, requirements=None) -> dict:
    """`tasks`, `attachments` (requirement order) and `requirements` default to the prefetch of
    the selectors; a caller that just wrote them passes them instead."""
    dl = selectors.application_deadline(app, memo=memo)
    if requirements is None:
        requirements = app.version.requirements.all()
    if attachments is None:
        attachments = selectors.attachments(app)
    if tasks is None:
        tasks = app.tasks.all()
    return {
        "uuid": app.uuid, "tracking_number": app.tracking_number, "service": app.service.slug,
        "service_name": app.version.name, "agency": app.agency.slug, "version": app.version.number,
        "channel": app.channel, "status": app.status, "applicant_type": app.applicant_type,
        "business_name": app.business_name, "nib": app.nib, "npwp": app.npwp, "notes": app.notes,
        "submitted_at": app.submitted_at, "sla_started_on": app.sla_started_on, "due_on": app.due_on,
        "overdue": dl.overdue, "deemed_approved": selectors.deemed_approved(app),
        "return_reason": app.return_reason, "reject_reason": app.reject_reason, "revision": app.revision,
        "requirements": [{"id": r.id, "document_type": r.document_type.code, "name": r.document_type.name,
                          "mandatory": r.mandatory} for r in requirements],
        "documents": [{"requirement": a.requirement_id, "document_type": a.requirement.document_type.code,
                       "document": a.document.uuid, "name": a.document.original_name} for a in attachments],
        "tasks": [task_out(t) for t in tasks],
    }


def _page(page, item) -> dict:
    memo: dict = {}  # one working-day calendar per site for the whole page
    return {"count": page.count, "page": page.page, "pages": page.pages, "items": [item(x, memo) for x in page.items]}


def _documents(owner, wanted: dict[int, UUID]) -> dict[int, Document]:
    """The vault documents named in a request, of `owner` (None when the owner is still to be found
    at a counter: the service then refuses any document that is not the applicant's)."""
    found = documents_by_uuid(keys=wanted.values(), owner=owner)
    missing = [str(u) for u in wanted.values() if u not in found]
    if missing:
        raise NotFound(_("Dokumen tidak ditemukan."), code="document_not_found", details={"documents": missing})
    return {req: found[u] for req, u in wanted.items()}


def _application(request, uuid):
    return selectors.application_get(actor=actor_of(request), uuid=uuid)


@router.get("/applications", response=ApplicationPage, summary="Permohonan Saya (milik pemohon)")
def my_applications(request, status: str = "", page: int = 1, page_size: int = 20):
    result = selectors.application_list_mine(actor=actor_of(request), status=status or None, page=page, page_size=page_size)
    return _page(result, application_out)


@router.post("/applications", response={200: ApplicationOut, 201: ApplicationOut},
             summary="Buat draf, atau ajukan langsung (submit=true); header Idempotency-Key untuk keduanya")
def create_application(request, payload: ApplicationIn):
    actor = actor_of(request)
    agency_slug, _sep, key = payload.service.rpartition("/")
    catalogue = service_for_filing(actor=actor, key=key, agency_slug=agency_slug or None)
    service = catalogue.service
    walk_in = None
    if payload.applicant_nik:
        walk_in = {"nik": payload.applicant_nik, "full_name": payload.applicant_name, "phone": payload.applicant_phone,
                   "email": payload.applicant_email}
    ticket = None
    if payload.ticket:
        from satupintu.queueing.selectors import ticket_by_code

        ticket = ticket_by_code(payload.ticket)
    fields = {"applicant_type": payload.applicant_type, "business_name": payload.business_name, "nib": payload.nib,
              "npwp": payload.npwp, "notes": payload.notes}
    key = request.headers.get("Idempotency-Key")
    fingerprint = services.request_fingerprint(payload.dict())
    if not payload.submit:
        if payload.documents:
            raise InvalidInput(_("Lampirkan dokumen ke draf lewat /documents/{requirement}."), code="documents_on_draft")
        draft = services.application_create(actor=actor, service=service, walk_in=walk_in, ticket=ticket,
                                            idempotency_key=key, fingerprint=fingerprint, **fields)
        # a retried key: the draft the first call made, as it is now
        return HttpStatus(201 if draft.created else 200,
                          application_out(selectors.application_get(actor=actor, uuid=draft.application.uuid)))
    documents = _documents(None if walk_in else actor, payload.documents)
    filing = services.application_file(
        actor=actor, catalogue=catalogue, documents=documents, walk_in=walk_in, ticket=ticket, idempotency_key=key,
        fingerprint=fingerprint, **fields)
    if not filing.created:  # a retried key: the application as it is now
        return HttpStatus(200, application_out(selectors.application_get(actor=actor, uuid=filing.application.uuid)))
    return HttpStatus(201, application_out(filing.application, tasks=filing.tasks, attachments=filing.attachments,
                                           requirements=catalogue.requirements))


@router.get("/applications/{uuid}", response=ApplicationOut)
def get_application(request, uuid: UUID):
    return application_out(_application(request, uuid))


@router.patch("/applications/{uuid}", response=ApplicationOut, summary="Ubah draf atau permohonan yang dikembalikan")
def patch_application(request, uuid: UUID, payload: ApplicationPatch):
    actor = actor_of(request)
    data = payload.dict(exclude_none=True)
    revision = data.pop("revision", None)
    services.application_update(actor=actor, application=_application(request, uuid), revision=revision, **data)
    return application_out(_application(request, uuid))


@router.delete("/applications/{uuid}", response={204: None}, summary="Hapus draf")
def delete_application(request, uuid: UUID):
    services.application_draft_delete(actor=actor_of(request), application=_application(request, uuid))
    return HttpStatus(204, None)


def _requirement(app, requirement_id: int):
    req = next((r for r in app.version.requirements.all() if r.id == requirement_id), None)
    if req is None:
        raise NotFound(_("Persyaratan tidak ditemukan pada layanan ini."), code="requirement_not_found")
    return req


@router.put("/applications/{uuid}/documents/{requirement_id}", response=ApplicationOut,
            summary="Pakai dokumen dari brankas untuk satu persyaratan")
def attach_document(request, uuid: UUID, requirement_id: int, payload: AttachIn):
    actor = actor_of(request)
    app = _application(request, uuid)
    doc = _documents(app.applicant, {requirement_id: payload.document})[requirement_id]
    services.application_attach(actor=actor, application=app, requirement=_requirement(app, requirement_id), document=doc)
    return application_out(_application(request, uuid))


@router.delete("/applications/{uuid}/documents/{requirement_id}", response=ApplicationOut)
def detach_document(request, uuid: UUID, requirement_id: int):
    actor = actor_of(request)
    app = _application(request, uuid)
    services.application_detach(actor=actor, application=app, requirement=_requirement(app, requirement_id))
    return application_out(_application(request, uuid))


@router.post("/applications/{uuid}/uploads", response={201: DocumentOut},
             summary="Unggah berkas ke brankas pemohon untuk permohonan ini (pemohon, petugas loket, atau BAP tinjau lapangan)")
def upload_for_application(request, uuid: UUID, document_type: Form[str], file: File[UploadedFile],
                           valid_until: Form[date | None] = None):
    actor = actor_of(request)
    app = _application(request, uuid)
    doc = services.application_upload(actor=actor, application=app, document_type=document_type_get(document_type), name=file.name,
                                      data=read_upload(file), valid_until=valid_until)
    return HttpStatus(201, document_out(doc))


class OfferedOut(Schema):
    requirement: int
    document_type: str
    documents: list[DocumentOut]


class OfferedPage(Schema):
    consent_granted: bool = Field(..., description="a walk-in filer: the applicant let them use all stored documents")
    results: list[OfferedOut]


@router.get("/applications/{uuid}/offered-documents", response=OfferedPage,
            summary="Dokumen tersimpan yang bisa dilampirkan, per persyaratan (pemohon; petugas loket: dengan izin pemohon)")
def offered_documents(request, uuid: UUID):
    actor = actor_of(request)
    app = _application(request, uuid)
    requirements = list(app.version.requirements.all())
    offered, consent = selectors.documents_to_attach(actor=actor, app=app, requirements=requirements)
    return {"consent_granted": consent, "results": [
        {"requirement": r.id, "document_type": r.document_type.code,
         "documents": [document_out(d) for d in offered.get(r.document_type_id, [])]} for r in requirements]}


class ConsentRequestedOut(Schema):
    expires_at: datetime
    sent_by_email: bool


class ConsentIn(Schema):
    code: str = Field(..., description="the 6 digits the applicant read out")


class ConsentOut(Schema):
    granted_at: datetime


@router.post("/applications/{uuid}/vault-consent/request", response={202: ConsentRequestedOut},
             summary="Petugas loket: kirim kode izin ke pemohon untuk memakai dokumen tersimpannya",
             description="One code a minute per application and five a day per applicant at most (429 otherwise, "
                         "with Retry-After); a code is good for 10 minutes.")
def vault_consent_request(request, uuid: UUID):
    app = _application(request, uuid)
    consent = services.vault_consent_request(actor=actor_of(request), application=app)
    return HttpStatus(202, {"expires_at": consent.expires_at, "sent_by_email": bool(app.applicant.email)})


@router.post("/applications/{uuid}/vault-consent", response=ConsentOut,
             summary="Petugas loket: masukkan kode yang dibacakan pemohon",
             description="A wrong code answers 400 `consent_code_wrong` with `attempts_left` (after 5 the code is "
                         "void; after 10 wrong codes for one applicant in a day, 429). The consent holds for 8 hours.")
def vault_consent_grant(request, uuid: UUID, payload: ConsentIn):
    consent = services.vault_consent_grant(actor=actor_of(request), application=_application(request, uuid),
                                           code=payload.code)
    return {"granted_at": consent.granted_at}


@router.post("/applications/{uuid}/submit", response=ApplicationOut)
def submit_application(request, uuid: UUID, payload: RevisionIn = None):
    services.application_submit(actor=actor_of(request), application=_application(request, uuid),
                                revision=payload.revision if payload else None)
    return application_out(_application(request, uuid))


@router.post("/applications/{uuid}/resubmit", response=ApplicationOut, summary="Ajukan ulang setelah diperbaiki")
def resubmit_application(request, uuid: UUID, payload: RevisionIn = None):
    services.application_resubmit(actor=actor_of(request), application=_application(request, uuid),
                                  revision=payload.revision if payload else None)
    return application_out(_application(request, uuid))


@router.get("/applications/{uuid}/history", response=list[HistoryOut], summary="Riwayat perubahan permohonan")
def application_history(request, uuid: UUID):
    actor = actor_of(request)
    app = _application(request, uuid)
    return [vars(row) for row in selectors.history(actor=actor, app=app)]


DECISIONS = {
    "claim": lambda actor, task, p, report: services.task_claim(actor=actor, task=task, revision=p.revision),
    "unclaim": lambda actor, task, p, report: services.task_unclaim(actor=actor, task=task, revision=p.revision),
    "approve": lambda actor, task, p, report: services.task_approve(actor=actor, task=task, note=p.note, report=report,
                                                                     revision=p.revision),
    "return": lambda actor, task, p, report: services.task_return(actor=actor, task=task, reason=p.reason, revision=p.revision),
    "reject": lambda actor, task, p, report: services.task_reject(actor=actor, task=task, reason=p.reason,
                                                                   legal_basis=p.legal_basis, revision=p.revision),
}


@router.post("/applications/{uuid}/tasks/{task_id}/{decision}", response=ApplicationOut,
             summary="Keputusan petugas atas satu tahap: claim, unclaim (juga oleh kepala, admin instansi, pengelola MPP), "
                     "approve, return, reject")
def decide(request, uuid: UUID, task_id: int, decision: str, payload: DecisionIn):
    actor = actor_of(request)
    if decision not in DECISIONS:
        raise NotFound(_("Keputusan tidak dikenal."), code="unknown_decision")
    app = _application(request, uuid)
    task = selectors.task_get(actor=actor, app=app, task_id=task_id)
    report = None
    if payload.report is not None:
        report = documents_by_uuid(keys=[payload.report], owner=app.applicant).get(payload.report)
        if report is None:
            raise NotFound(_("Dokumen BAP tidak ditemukan."), code="document_not_found")
    DECISIONS[decision](actor, task, payload, report)
    return application_out(_application(request, uuid))


def inbox_item(row, memo: dict | None = None) -> dict:
    task, dl = row.task, row.deadline
    app = task.application
    return {
        "task": task_out(task), "application": app.uuid, "tracking_number": app.tracking_number,
        "service_name": app.service.name, "applicant_name": app.applicant.full_name, "submitted_at": app.submitted_at,
        "application_due_on": app.due_on, "days_left": dl.days_left, "overdue": dl.overdue, "due_soon": dl.due_soon,
    }


@router.get("/inbox", response=InboxPage, summary="Kotak masuk petugas: tahap yang menunggu, tenggat terdekat dulu")
def inbox(request, due: str = "", claimed: str = "", service: str = "", q: str = "", page: int = 1, page_size: int = 20):
    result = selectors.inbox(actor=actor_of(request), due=due, claimed=claimed, service=service, q=q, page=page,
                             page_size=page_size)
    return {**_page(result, inbox_item), "count_capped": result.capped}


def tracking_out(app) -> dict:
    dl = selectors.application_deadline(app)
    site = app.agency.site

    def day(moment):  # the date at the mall, as deadlines are (not the server's UTC date)
        return site_today(site, moment) if moment else None

    return {
        "tracking_number": app.tracking_number, "service_name": app.version.name, "agency": app.agency.short_name,
        "status": app.status, "status_label": str(app.get_status_display()),
        "submitted_on": day(app.submitted_at), "due_on": app.due_on,
        "paused": dl.paused, "overdue": dl.overdue, "deemed_approved": selectors.deemed_approved(app),
        "stages": [{"name": t.name, "agency": t.agency.short_name, "status": t.status, "activated_on": t.activated_on,
                    "due_on": t.due_on, "finished_on": day(t.decided_at)}
                   for t in app.tasks.all()],
    }


@router.get("/track", response=TrackingOut, auth=None,
            summary="Lacak permohonan: nomor registrasi + tanggal lahir pemohon atau 4 angka terakhir NIK")
def track(request, number: str, birth_date: date | None = None, nik_last4: str = ""):
    app = selectors.tracking_lookup(number=number, birth_date=birth_date, nik_last4=nik_last4, client=client_ip(request))
    return tracking_out(app)
