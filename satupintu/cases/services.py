"""Every write to an application: drafting, attaching documents, submitting, the officers'
decisions on workflow stages, resubmission after a return, and escalation of overdue stages.

Locking: every change to a filed application first locks its row (`_lock`), then reads its
tasks; two officers deciding the same stage at once are serialised there, and the second one
finds the stage already decided and gets a conflict, never a double transition.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.catalog import eligibility
from satupintu.catalog.models import ApplicantType, Requirement
from satupintu.catalog.selectors import FilingCatalogue, filing_catalogue, site_calendar
from satupintu.core import audit, ids, ratelimit
from satupintu.core.clock import utc_offset_seconds
from satupintu.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, RateLimited
from satupintu.core.permissions import (
    SystemActor, can_supervise_agency, is_mall_admin, officer_agency_id, require_authenticated, require_mall_admin,
)
from satupintu.identity.models import Role, User
from satupintu.vault.models import Document

from . import clock, events, selectors, sla
from .models import (
    EDITABLE_STATUSES, FINAL_STATUSES, OPEN_STATUSES, REPORT_DOCUMENT_TYPE, Application, ApplicationDocument, Channel, Pause,
    StageKind, StageReport, StageTask, Status, TaskStatus, VaultConsent,
)

MAX_TEXT = 2000
NIB_RE = re.compile(r"^[0-9]{13}$")
NPWP_RE = re.compile(r"^[0-9]{15,16}$")
SEPARATORS = re.compile(r"[\s.\-/]")  # as NIB and NPWP are written (01.234.567.8-901.000): the rest must be 0-9


# ---------------------------------------------------------------------------- helpers

def _lock(application: Application) -> Application:
    """The application's row lock: taken first by every change to a filed application. `of=self`:
    the joined service, version, agency and site rows are read, not locked (locking the one site
    row would serialise every write in the mall)."""
    return (Application.objects.select_for_update(of=("self",))
            .select_related("version", "service", "agency__site").get(pk=application.pk))


def _check_revision(app: Application, revision: int | None) -> None:
    if revision is not None and revision != app.revision:
        raise Conflict(_("Permohonan ini sudah berubah sejak Anda membukanya. Muat ulang halaman lalu coba lagi."),
                       code="stale", details={"revision": app.revision})


def _touch(app: Application, *fields: str) -> None:
    app.revision += 1
    app.save(update_fields=[*fields, "revision", "updated_at"])


def _may_edit(actor, app: Application) -> bool:
    return selectors.may_edit(actor, app)


def _require_editable(actor, app: Application) -> None:
    require_authenticated(actor)
    if not _may_edit(actor, app):
        raise NotFound(_("Permohonan tidak ditemukan."), code="application_not_found")
    if app.status not in EDITABLE_STATUSES:
        raise Conflict(_("Permohonan yang sedang diproses atau sudah selesai tidak bisa diubah."), code="not_editable")


def _lock_editable(actor, application: Application, revision: int | None = None) -> Application:
    """Lock a file the actor may still change (draft or returned), checking the form's revision."""
    app = _lock(application)
    _require_editable(actor, app)
    _check_revision(app, revision)
    return app


def _idempotency_key(raw: str | None) -> str | None:
    """An Idempotency-Key as given (stripped): 1–80 characters, or None when there is none."""
    if raw is None:
        return None
    key = raw.strip()
    if not 1 <= len(key) <= 80:
        raise InvalidInput(_("Idempotency-Key harus 1–80 karakter."), code="invalid_idempotency_key")
    return key


def _earlier_with_key(actor, key: str, fingerprint: str) -> Application | None:
    """The application (draft or filed) this actor already made with this key (None: none yet).
    The same key for a different request is a conflict."""
    earlier = (Application.objects.filter(filed_by=actor, idempotency_key=key)
               .values_list("pk", "idempotency_fingerprint").first())
    if earlier is None:
        return None
    if earlier[1] != fingerprint:
        raise Conflict(_("Idempotency-Key ini sudah dipakai untuk permintaan yang berbeda."), code="idempotency_mismatch")
    return Application.objects.get(pk=earlier[0])


def _clean_text(value: str, field: str, errors: dict, max_len: int = 200) -> str:
    value = (value or "").strip()
    if len(value) > max_len:
        errors[field] = _("Maksimal %(n)d karakter.") % {"n": max_len}
    return value


def _clean_fields(data: dict) -> dict:
    errors: dict[str, str] = {}
    out = {}
    if "applicant_type" in data:
        if data["applicant_type"] not in ApplicantType.values:
            errors["applicant_type"] = _("Jenis pemohon harus perorangan atau badan usaha.")
        out["applicant_type"] = data["applicant_type"]
    for field, n in (("business_name", 200), ("notes", MAX_TEXT)):
        if field in data:
            out[field] = _clean_text(data[field], field, errors, n)
    if "nib" in data:
        out["nib"] = SEPARATORS.sub("", data["nib"] or "")
        if out["nib"] and not NIB_RE.match(out["nib"]):
            errors["nib"] = _("NIB terdiri dari 13 angka.")
    if "npwp" in data:
        out["npwp"] = SEPARATORS.sub("", data["npwp"] or "")
        if out["npwp"] and not NPWP_RE.match(out["npwp"]):
            errors["npwp"] = _("NPWP terdiri dari 15 atau 16 angka.")
    if errors:
        raise InvalidInput(_("Data permohonan belum benar."), code="invalid_application", details=errors)
    return out


def _refresh_due(app: Application, tasks, today: date) -> None:
    """Recompute the application's and its active tasks' due dates from the calendar and pauses."""
    cal = site_calendar(app.agency.site)
    pauses = list(app.pauses.values_list("started_on", "ended_on"))
    paused_now = any(end is None for _s, end in pauses)
    skip = sla.paused_days(pauses, today)
    if paused_now:
        app.due_on = None
    elif app.sla_started_on is not None:
        app.due_on = sla.due_date(cal, app.sla_started_on, app.version.completion_days, skip)
    for t in tasks:
        if t.status == TaskStatus.ACTIVE:
            t.due_on = None if paused_now else sla.due_date(cal, t.activated_on, t.sla_days, skip)
            t.save(update_fields=["due_on"])


def _stage_done(tasks, key: str) -> bool:
    return all(t.status == TaskStatus.APPROVED for t in tasks if t.stage_key == key)


def _activate_ready(app: Application, tasks, today: date) -> list[StageTask]:
    """Start every waiting stage whose predecessors have all passed."""
    started = []
    for t in tasks:
        if t.status == TaskStatus.WAITING and all(_stage_done(tasks, k) for k in t.after):
            t.status, t.activated_on = TaskStatus.ACTIVE, today
            t.save(update_fields=["status", "activated_on"])
            started.append(t)
    return started


# ---------------------------------------------------------------------------- drafts

@dataclass
class Draft:
    """What `application_create` returns: the draft, and whether this call made it (False: the
    citizen's draft of the service already begun, with `reuse_draft`; or the draft an earlier
    call with the same idempotency key made)."""

    application: Application
    created: bool


@transaction.atomic
def application_create(*, actor, service, applicant: User | None = None, walk_in: dict | None = None, ticket=None,
                       reuse_draft: bool = False, idempotency_key: str | None = None, fingerprint: str = "",
                       **fields) -> Draft:
    """A draft for `service`. A citizen files for themself; a front-office officer of the
    service's agency files for a walk-in `applicant`, or for the person described by `walk_in`
    (nik, full_name, phone, email: found by NIK or given an account in the same transaction),
    optionally from the queue ticket served.

    `reuse_draft` (the service page's "Ajukan permohonan daring"): a citizen filing for themself
    who already has a draft of `service` gets that one back, with no new row and no audit entry.
    Their user row is locked first, so two taps at the same instant make one draft, not two.
    `idempotency_key` (the API's Idempotency-Key) with the request's `fingerprint`: a retry by the
    same actor with the same key gets the draft the first call made; the same key for a different
    request is a conflict (409 `idempotency_mismatch`)."""
    require_authenticated(actor)
    key = _idempotency_key(idempotency_key)
    if reuse_draft and actor.role == Role.CITIZEN and walk_in is None and (applicant is None or applicant.pk == actor.pk):
        # FOR NO KEY UPDATE: serialises these calls of one citizen; inserts that only reference the row still pass
        list(User.objects.select_for_update(no_key=True).filter(pk=actor.pk).values_list("pk", flat=True))
        begun = selectors.draft_of_service(actor=actor, service=service)
        if begun is not None:
            return Draft(begun, False)
    # As in application_file, a retried key is not looked up first: the insert's unique index (or
    # a check that refuses the retry) finds it.
    try:
        app = _new_application(actor, service, applicant, ticket, fields, (key, fingerprint) if key else None, walk_in)
    except DomainError:
        earlier = _earlier_with_key(actor, key, fingerprint) if key else None
        if earlier is None:
            raise
        return Draft(earlier, False)
    try:
        with transaction.atomic(savepoint=key is not None):
            app.save(force_insert=True)
    except IntegrityError:  # the key of an earlier (or a concurrent) call: answer as a retry
        earlier = _earlier_with_key(actor, key, fingerprint) if key else None
        if earlier is None:
            raise
        return Draft(earlier, False)
    audit.record(actor=actor, action="application.created", obj=app,
                 changes={"service": service.slug, "version": app.version.number, "channel": app.channel,
                          "ticket": ticket.code if ticket else None})
    return Draft(app, True)


def _check_open(service) -> None:
    """The service takes applications: active, with a published version that has a workflow."""
    version = service.current_version
    if version is None or not service.is_active:
        raise InvalidInput(_("Layanan ini belum menerima permohonan."), code="service_unavailable")
    if not version.workflow:
        raise InvalidInput(_("Alur proses layanan ini belum ditetapkan; permohonan belum bisa diterima."),
                           code="no_workflow")


def _new_application(actor, service, applicant, ticket, fields: dict, idempotency: tuple[str, str] | None = None,
                     walk_in: dict | None = None) -> Application:
    """An application of `service` not yet saved, for the applicant `actor` may file for: every
    check that needs no write (a walk-in citizen without an account gets one here)."""
    require_authenticated(actor)
    _check_open(service)
    version = service.current_version
    if actor.role == Role.CITIZEN:
        if walk_in is not None:
            raise Forbidden(_("Hanya petugas yang boleh mendaftarkan warga di loket."), code="not_officer")
        if applicant is not None and applicant.pk != actor.pk:
            raise Forbidden(_("Warga hanya bisa mengajukan permohonan untuk dirinya sendiri."), code="foreign_applicant")
        applicant, channel = actor, Channel.ONLINE
    elif officer_agency_id(actor) == service.agency_id and actor.role == Role.FRONT_OFFICE:
        if walk_in is not None:
            from satupintu.identity.services import citizen_register_assisted

            applicant = citizen_register_assisted(actor=actor, **walk_in)
        if applicant is None:
            raise InvalidInput(_("Pilih warga yang diwakili."), code="applicant_missing")
        channel = Channel.WALK_IN
    else:
        raise Forbidden(_("Permohonan di loket hanya bisa dibuat petugas front office instansi pemilik layanan."),
                        code="not_front_office")
    profile = getattr(applicant, "citizen", None)
    if profile is None:
        raise InvalidInput(_("Pemohon harus akun warga dengan NIK."), code="applicant_not_citizen")
    if ticket is not None and ticket.group.agency_id != service.agency_id:
        raise InvalidInput(_("Nomor antrean ini milik instansi lain."), code="foreign_ticket")
    cleaned = _clean_fields(fields)
    key, fingerprint = idempotency or (None, "")
    return Application(
        service=service, version=version, agency=service.agency, applicant=applicant, filed_by=actor,
        channel=channel, ticket=ticket, applicant_birth_date=profile.facts.birth_date,
        applicant_nik_last4=profile.nik[-4:], idempotency_key=key, idempotency_fingerprint=fingerprint, **cleaned,
    )


@transaction.atomic
def application_update(*, actor, application: Application, revision: int | None = None, **fields) -> Application:
    app = _lock_editable(actor, application, revision)
    changed = {k: v for k, v in _clean_fields(fields).items() if getattr(app, k) != v}
    if not changed:  # nothing new: no revision, no audit entry
        return app
    for k, v in changed.items():
        setattr(app, k, v)
    _touch(app, *changed)
    audit.record(actor=actor, action="application.updated", obj=app, changes={"fields": sorted(changed)})
    return app


def _check_attachable(actor, app: Application, requirement: Requirement, document: Document, today: date) -> None:
    if requirement.version_id != app.version_id:
        raise InvalidInput(_("Persyaratan ini bukan bagian dari layanan yang dimohon."), code="foreign_requirement")
    if document.owner_id != app.applicant_id:
        raise NotFound(_("Dokumen tidak ditemukan."), code="document_not_found")
    if not may_use_document(actor, app, document):
        raise Forbidden(_("Dokumen yang sudah tersimpan di akun warga hanya bisa dipakai setelah warga memberi izin: "
                          "kirim kode ke warga, lalu masukkan kode yang ia bacakan."), code="vault_consent_required")
    if document.document_type_id != requirement.document_type_id:
        raise InvalidInput(_("Jenis dokumen tidak sesuai: persyaratan ini meminta %(t)s.")
                           % {"t": requirement.document_type.name}, code="wrong_document_type")
    if document.valid_until is not None and document.valid_until < today:
        raise InvalidInput(_("Dokumen ini sudah kedaluwarsa; unggah yang masih berlaku."), code="document_expired")


@transaction.atomic
def application_attach(*, actor, application: Application, requirement: Requirement, document: Document,
                       revision: int | None = None) -> ApplicationDocument:
    """Use a vault document for one requirement (replacing an earlier choice). `revision`: the
    one the caller saw (a form drawn before another change is refused, 409 `stale`)."""
    app = _lock_editable(actor, application, revision)
    _check_attachable(actor, app, requirement, document, clock.today(app.agency.site))
    attachment, _created = ApplicationDocument.objects.update_or_create(
        application=app, requirement=requirement, defaults={"document": document})
    _touch(app)
    audit.record(actor=actor, action="application.document_attached", obj=app,
                 changes={"requirement": requirement.document_type.code, "document": str(document.uuid)})
    return attachment


@transaction.atomic
def application_upload(*, actor, application: Application, document_type, name: str, data: bytes,
                       valid_until: date | None = None) -> Document:
    """Put a file into the applicant's vault for this application: any requirement's type by the
    applicant or the walk-in filer while the file is editable; or, by an officer, the report (BAP)
    of a stage of theirs that takes one, while it runs: the report is then bound to that stage
    (`StageReport`), and only such a report is accepted when the stage is approved."""
    from satupintu.vault.services import document_upload

    require_authenticated(actor)
    app = application
    if _may_edit(actor, app):
        _require_editable(actor, app)
        return document_upload(actor=actor, owner=app.applicant, document_type=document_type, name=name, data=data,
                               valid_until=valid_until, assisted=actor.pk != app.applicant_id)
    agency_id = officer_agency_id(actor)
    if agency_id is None and not is_mall_admin(actor):
        raise NotFound(_("Permohonan tidak ditemukan."), code="application_not_found")
    app = _lock(app)  # the stage's state is read under the row lock the decisions take
    tasks = [t for t in app.tasks.select_related("agency", "claimed_by")
             if t.status == TaskStatus.ACTIVE and t.takes_report and t.agency_id == agency_id and t.role == actor.role]
    if not tasks:
        raise Forbidden(_("Petugas hanya bisa mengunggah berita acara pemeriksaan (BAP) selama tahap tinjau lapangan "
                          "yang menjadi tugasnya berjalan."), code="no_report_stage")
    if document_type.code != REPORT_DOCUMENT_TYPE:
        raise InvalidInput(_("Petugas hanya boleh mengunggah berita acara pemeriksaan (BAP) ke berkas pemohon, bukan "
                             "%(t)s.") % {"t": document_type.name}, code="report_type_only")
    if app.status not in OPEN_STATUSES:
        raise Conflict(_("Permohonan sedang dikembalikan ke pemohon untuk perbaikan."), code="application_returned")
    tasks = [t for t in tasks if t.holder_id in (None, actor.pk)]
    if not tasks:
        raise Conflict(_("Tahap ini sedang ditangani petugas lain."), code="claimed_by_other")
    doc = document_upload(actor=actor, owner=app.applicant, document_type=document_type, name=name, data=data,
                          valid_until=valid_until, assisted=True, report=True)
    StageReport.objects.bulk_create([StageReport(task=t, document=doc) for t in tasks])
    audit.record(actor=actor, action="application.report_uploaded", obj=app,
                 changes={"stage": tasks[0].stage_key, "stages": [t.stage_key for t in tasks],
                          "agency": tasks[0].agency.slug, "document": str(doc.uuid)})
    return doc


@transaction.atomic
def application_detach(*, actor, application: Application, requirement: Requirement) -> None:
    app = _lock_editable(actor, application)
    deleted, _n = ApplicationDocument.objects.filter(application=app, requirement=requirement).delete()
    if deleted:
        _touch(app)
        audit.record(actor=actor, action="application.document_detached", obj=app,
                     changes={"requirement": requirement.document_type.code})


@transaction.atomic
def application_draft_delete(*, actor, application: Application) -> None:
    app = _lock_editable(actor, application)
    if app.status != Status.DRAFT:
        raise Conflict(_("Hanya draf yang bisa dihapus."), code="not_draft")
    audit.record(actor=actor, action="application.draft_deleted", obj=app, changes={})
    app.delete()


# ---------------------------------------------------------------------------- submission

def _missing_requirements(app: Application, today: date, attached: dict | None = None,
                          requirements: list[Requirement] | None = None) -> list[str]:
    """Names of mandatory documents not attached (or expired). `attached` (requirement id →
    document) and `requirements` spare the reads when the caller has them."""
    if attached is None:
        attached = {a.requirement_id: a.document for a in app.attachments.select_related("document")}
    if requirements is None:
        requirements = list(app.version.requirements.select_related("document_type"))
    missing = []
    for req in requirements:
        doc = attached.get(req.id)
        if req.mandatory and (doc is None or (doc.valid_until is not None and doc.valid_until < today)):
            missing.append(req.document_type.name)
    return missing


def _rebind_to_current_version(app: Application) -> None:
    """A draft follows the service's current version until it is filed."""
    if app.service.current_version_id in (None, app.version_id):
        return
    current = app.service.current_version
    by_type = {r.document_type_id: r for r in current.requirements.all()}
    for att in list(app.attachments.select_related("requirement")):
        new_req = by_type.get(att.requirement.document_type_id)
        if new_req is None:
            att.delete()
        else:
            att.requirement = new_req
            att.save(update_fields=["requirement"])
    app.version = current


def _check_before_submit(app: Application, today: date, attached=None, requirements=None) -> None:
    profile = app.applicant.citizen
    result = eligibility.check(app.version, nik=profile.nik, applicant_type=app.applicant_type, on=today)
    if not result.eligible:
        raise InvalidInput(_("Pemohon tidak memenuhi syarat layanan ini."), code="not_eligible",
                           details={"reasons": [{"code": r.code, "message": r.message} for r in result.reasons]})
    errors = {}
    if app.applicant_type == ApplicantType.BADAN_USAHA:
        if not app.business_name:
            errors["business_name"] = _("Nama badan usaha wajib diisi.")
        if not app.nib:
            errors["nib"] = _("NIB wajib diisi untuk pemohon badan usaha.")
    missing = _missing_requirements(app, today, attached, requirements)
    if missing:
        errors["documents"] = _("Dokumen wajib belum dilampirkan: %(list)s.") % {"list": ", ".join(missing)}
    if errors:
        raise InvalidInput(_("Permohonan belum lengkap."), code="incomplete", details=errors)


def _start(app: Application, today: date, catalogue: FilingCatalogue) -> list[StageTask]:
    """Make `app` submitted, in memory: filing time and the workflow's tasks (not saved), the
    start stages already running with their deadlines. The SLA clock starts later, when the
    completeness check (every workflow's first stage) passes. `catalogue`: of the service at its
    current version (the version `app` is filed against). The tracking number is drawn when the
    application is stored (`_store_tracking_number`)."""
    app.status, app.submitted_at = Status.SUBMITTED, timezone.now()
    stages, agencies, cal = app.version.workflow, catalogue.agencies, catalogue.calendar
    tasks = []
    for position, st in enumerate(stages):
        start = not st.get("after")
        for slug in st["agencies"]:
            if slug not in agencies:
                raise InvalidInput(_("Alur layanan menyebut instansi yang tidak ada (%(s)s).") % {"s": slug},
                                   code="workflow_agency_missing")
            tasks.append(StageTask(
                application=app, stage_key=st["key"], position=position, kind=st["kind"], name=st["name"],
                after=list(st.get("after", [])), agency=agencies[slug], role=st["role"], sla_days=st["sla_days"],
                status=TaskStatus.ACTIVE if start else TaskStatus.WAITING, activated_on=today if start else None,
                due_on=sla.due_date(cal, today, st["sla_days"], set()) if start else None))
    tasks.sort(key=lambda t: (t.position, t.agency_id))  # the order every read gives
    return tasks


def _record_submitted(actor, app: Application, tasks: list[StageTask], **filing) -> None:
    """`filing`: what a one-step filing adds to the entry (service, channel, ticket, documents)."""
    started = [t for t in tasks if t.status == TaskStatus.ACTIVE]
    audit.record(actor=actor, action="application.submitted", obj=app,
                 changes={"tracking_number": app.tracking_number, "version": app.version.number,
                          "stages": [t.stage_key for t in started], **filing})
    events.submitted(app, actor=actor, started=started, tasks=tasks)


@transaction.atomic
def application_submit(*, actor, application: Application, revision: int | None = None) -> Application:
    """File a draft: checks eligibility and mandatory documents, gives the tracking number and
    starts the first stages of the workflow."""
    app = _lock_editable(actor, application, revision)
    if app.status != Status.DRAFT:
        raise Conflict(_("Permohonan ini sudah diajukan."), code="already_submitted")
    _check_open(app.service)  # a draft outlives changes to its service
    today = clock.today(app.agency.site)
    _rebind_to_current_version(app)
    app.service.agency = app.agency  # loaded with its site by _lock: not read again
    catalogue = filing_catalogue(app.service)
    _check_before_submit(app, today, requirements=catalogue.requirements)
    tasks = _start(app, today, catalogue)
    app.revision += 1
    _store_tracking_number(app, lambda: app.save(update_fields=[
        "status", "submitted_at", "tracking_number", "version", "sla_started_on", "due_on", "revision", "updated_at"]))
    StageTask.objects.bulk_create(tasks)
    _record_submitted(actor, app, tasks)
    return app


TRACKING_NUMBER_LENGTH = 9  # + the check character: 32⁹ numbers, a repeat is drawn again


def _store_tracking_number(app: Application, save) -> None:
    """Draw the tracking number and store the application with it (`save`, in a savepoint): a
    number already on file is refused by its unique index and drawn again."""
    ids.save_with_new_code(app, "tracking_number", TRACKING_NUMBER_LENGTH, save=save)


def request_fingerprint(payload: dict) -> str:
    return hashlib.sha256(audit.canonical(payload).encode()).hexdigest()


@dataclass
class Filing:
    """What `application_file` wrote (or, for a retried idempotency key, found: then only
    `application` is set and `created` is False)."""

    application: Application
    created: bool
    tasks: list[StageTask] | None = None
    attachments: list[ApplicationDocument] | None = None


def _replay(actor, key: str, fingerprint: str) -> Filing | None:
    """The filing this actor already made with this key (None: none yet)."""
    earlier = _earlier_with_key(actor, key, fingerprint)
    return None if earlier is None else Filing(earlier, False)


@transaction.atomic
def application_file(*, actor, catalogue: FilingCatalogue, documents: dict[int, Document],
                     idempotency_key: str | None = None, fingerprint: str = "", applicant: User | None = None,
                     walk_in: dict | None = None, ticket=None, **fields) -> Filing:
    """Create, attach and submit in one step (the API's submit) for the service of `catalogue`
    (`catalog.selectors.service_for_filing` or `filing_catalogue`): every check runs before the
    first write, then each table gets one insert. With an idempotency key a retry returns the
    application the first call created."""
    require_authenticated(actor)
    key = _idempotency_key(idempotency_key)
    # A retried key is not looked up first: the insert's unique index finds it, and so does a
    # check that refuses the retry (a document expired since, a closed service): either way the
    # first call's application is the answer. A first call pays no look-up.
    service = catalogue.service
    try:
        app = _new_application(actor, service, applicant, ticket, fields, (key, fingerprint) if key else None, walk_in)
        today = clock.today(app.agency.site)
        requirements = list(catalogue.requirements)
        attachments = _plan_attachments(actor, app, requirements, documents, today)
        _check_before_submit(app, today, {a.requirement_id: a.document for a in attachments}, requirements)
        tasks = _start(app, today, catalogue)
    except DomainError:
        replay = _replay(actor, key, fingerprint) if key else None
        if replay is None:
            raise
        return replay
    app.revision = 1
    try:
        _store_tracking_number(app, lambda: app.save(force_insert=True))
    except IntegrityError:  # the key of an earlier (or a concurrent) call: answer as a retry
        replay = _replay(actor, key, fingerprint) if key else None  # a different request: 409, and what it wrote rolls back
        if replay is None:
            raise
        return replay
    ApplicationDocument.objects.bulk_create(attachments)
    StageTask.objects.bulk_create(tasks)
    # one action, one audit entry: no draft ever existed
    _record_submitted(actor, app, tasks, service=service.slug, channel=app.channel,
                      ticket=ticket.code if ticket else None,
                      documents={a.requirement.document_type.code: str(a.document.uuid) for a in attachments})
    return Filing(app, True, tasks, attachments)


def _plan_attachments(actor, app: Application, requirements: list[Requirement], documents: dict[int, Document],
                      today: date) -> list[ApplicationDocument]:
    """The attachments of a new application (not saved), in requirement order; each checked."""
    reqs = {r.id: r for r in requirements}
    rows = []
    for req_id, doc in documents.items():
        req = reqs.get(req_id)
        if req is None:
            raise InvalidInput(_("Persyaratan %(id)s bukan bagian dari layanan ini.") % {"id": req_id},
                               code="foreign_requirement")
        _check_attachable(actor, app, req, doc, today)
        rows.append(ApplicationDocument(application=app, requirement=req, document=doc))
    rows.sort(key=lambda a: (a.requirement.position, a.requirement_id))
    return rows


@transaction.atomic
def application_resubmit(*, actor, application: Application, revision: int | None = None) -> Application:
    """The applicant fixed what was asked: the clock resumes and the file returns to the same stage."""
    app = _lock_editable(actor, application, revision)
    if app.status != Status.RETURNED:
        raise Conflict(_("Hanya permohonan yang dikembalikan yang bisa diajukan ulang."), code="not_returned")
    today = clock.today(app.agency.site)
    _check_before_submit(app, today)  # the fields may have changed while it was returned, not only documents
    Pause.objects.filter(application=app, ended_on__isnull=True).update(ended_on=today)
    app.status = Status.IN_PROCESS if app.sla_started_on else Status.SUBMITTED
    tasks = list(app.tasks.all())
    _refresh_due(app, tasks, today)
    _touch(app, "status", "due_on")
    audit.record(actor=actor, action="application.resubmitted", obj=app, changes={"due_on": app.due_on})
    events.resubmitted(app, actor=actor, started=[t for t in tasks if t.status == TaskStatus.ACTIVE], tasks=tasks)
    return app


# ---------------------------------------------------------------------------- vault consent (walk-in)

CONSENT_MINUTES = 10  # a code is good this long
CONSENT_ATTEMPTS = 5  # wrong codes before it is void
CONSENT_RESEND_SECONDS = 60  # between two codes for one application
CONSENT_CODES_PER_DAY = 5  # codes for one applicant a day, whatever the application: 25 guesses at most
CONSENT_WRONG_PER_DAY = 10  # wrong codes one officer may enter for one applicant a day
DAY = 86400


def _day_window() -> dict:
    """The rate-limit window of one day, from midnight in the deployment's zone (TIME_ZONE; its
    site's, Pekanbaru: WIB), the "today" of "try again tomorrow", not UTC's (07:00 WIB). One
    zone for the whole deployment: an applicant's count is one count whatever the site."""
    return {"window_seconds": DAY, "offset_seconds": utc_offset_seconds()}


def _consent_hash(app: Application, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"vault-consent:{app.uuid}:{code}".encode(), hashlib.sha256).hexdigest()


def may_use_document(actor, app: Application, document: Document) -> bool:
    """The applicant uses any of their documents. Someone filing for them (a walk-in at the
    front office) uses those they scanned themself, and the applicant's other documents only
    once the applicant let them (`vault_consent_grant`)."""
    if actor.pk == app.applicant_id or document.uploaded_by_id == actor.pk:
        return True
    return app.pk is not None and selectors.vault_consent_granted(app)


def _lock_walk_in(actor, application: Application) -> Application:
    app = _lock(application)
    _require_editable(actor, app)
    if actor.pk == app.applicant_id:
        raise InvalidInput(_("Pemohon memakai dokumennya sendiri tanpa izin."), code="own_application")
    return app


@transaction.atomic
def vault_consent_request(*, actor, application: Application) -> VaultConsent:
    """The officer filing for a walk-in citizen asks to use the citizen's stored documents: a
    6-digit code, good for CONSENT_MINUTES, goes to the citizen (in-app and e-mail), who reads
    it out at the counter. A new code voids the one before. One a minute per application, and
    CONSENT_CODES_PER_DAY a day per applicant whatever the application (drafts opened and
    deleted again do not give new ones): with CONSENT_ATTEMPTS tries a code, at most 25 guesses
    of a million a day (counted per calendar day in the deployment's zone: 50 across its midnight)."""
    app = _lock_walk_in(actor, application)
    if selectors.vault_consent_granted(app):
        raise Conflict(_("Pemohon sudah memberi izin untuk permohonan ini."), code="consent_already_granted")
    now = timezone.now()
    last = VaultConsent.objects.filter(application=app).order_by("-created_at", "-id").values_list("created_at", flat=True).first()
    if last is not None and (now - last).total_seconds() < CONSENT_RESEND_SECONDS:
        raise RateLimited(CONSENT_RESEND_SECONDS - int((now - last).total_seconds()),
                          _("Kode baru saja dikirim; tunggu sebentar sebelum meminta kode lagi."))
    try:  # counted with this transaction: a request refused later does not use up the applicant's codes
        ratelimit.check(f"consent-code:{app.applicant_id}", limit=CONSENT_CODES_PER_DAY, **_day_window())
    except RateLimited as exc:
        raise RateLimited(exc.retry_after, _("Sudah %(n)d kode dikirim untuk pemohon ini hari ini. Pakai berkas yang "
                                             "dipindai di loket, atau coba lagi besok.") % {"n": CONSENT_CODES_PER_DAY}) from None
    VaultConsent.objects.filter(application=app, granted_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    code = f"{secrets.randbelow(10 ** 6):06d}"
    consent = VaultConsent.objects.create(application=app, requested_by=actor, code_hash=_consent_hash(app, code),
                                          expires_at=now + timedelta(minutes=CONSENT_MINUTES))
    events.consent_requested(app, actor=actor, code=code, minutes=CONSENT_MINUTES)
    audit.record(actor=actor, action="application.vault_consent_requested", obj=app,
                 changes={"expires_at": consent.expires_at})
    return consent


def vault_consent_grant(*, actor, application: Application, code: str) -> VaultConsent:
    """The code the citizen read out: right, the filer may use the citizen's stored documents for
    this application (for `selectors.CONSENT_VALID_HOURS`); wrong, the attempt is counted on the
    code (CONSENT_ATTEMPTS void it) and for this officer and applicant (CONSENT_WRONG_PER_DAY),
    and written to the audit log, all kept although the call fails."""
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"[0-9]{6}", code):
        raise InvalidInput(_("Kode izin terdiri dari 6 angka."), code="invalid_consent_code")
    with transaction.atomic():
        app = _lock_walk_in(actor, application)
        guesses = f"consent-guess:{actor.pk}:{app.applicant_id}"
        ratelimit.ensure_allowed(guesses, limit=CONSENT_WRONG_PER_DAY, **_day_window())
        now = timezone.now()
        consent = (VaultConsent.objects.select_for_update().filter(application=app, granted_at__isnull=True)
                   .order_by("-created_at", "-id").first())
        if consent is None or consent.expires_at <= now or consent.attempts >= CONSENT_ATTEMPTS:
            if selectors.vault_consent_granted(app):
                raise Conflict(_("Pemohon sudah memberi izin untuk permohonan ini."), code="consent_already_granted")
            raise Conflict(_("Tidak ada kode yang berlaku; kirim kode baru ke pemohon."), code="consent_code_expired")
        if hmac.compare_digest(consent.code_hash, _consent_hash(app, code)):
            consent.granted_at = now
            consent.save(update_fields=["granted_at"])
            audit.record(actor=actor, action="application.vault_consent_granted", obj=app,
                         changes={"code_sent_at": consent.created_at})
            return consent
        consent.attempts += 1
        consent.save(update_fields=["attempts"])
        left = CONSENT_ATTEMPTS - consent.attempts
        ratelimit.hit(guesses, **_day_window())
        audit.record(actor=actor, action="application.vault_consent_failed", obj=app, changes={"attempts_left": left})
    # raised after the commit: the counted attempt and its audit entry stay
    if left <= 0:
        raise InvalidInput(_("Kode salah. Kode ini tidak berlaku lagi; kirim kode baru ke pemohon."),
                           code="consent_code_wrong", details={"attempts_left": 0})
    raise InvalidInput(_("Kode salah. Sisa percobaan: %(n)d.") % {"n": left}, code="consent_code_wrong",
                       details={"attempts_left": left})


# ---------------------------------------------------------------------------- decisions

def _task_for_decision(actor, task: StageTask, revision: int | None, *,
                       release: bool = False) -> tuple[Application, StageTask, list[StageTask]]:
    """Lock the application and find the task the actor decides: an officer of the stage's agency
    and role, on an open file, at a stage that runs, from a current form, and not held by another
    officer (a claim of a deactivated or moved officer holds nobody: `StageTask.holder_id`).
    `release`: the actor releases a claim; the agency's head and admin and the mall administrator
    may too, whoever holds it."""
    require_authenticated(actor)
    app = _lock(task.application)
    tasks = list(app.tasks.select_related("agency", "claimed_by").order_by("position", "agency_id"))
    task = next((t for t in tasks if t.pk == task.pk), None)
    if task is None:
        raise NotFound(_("Tahap tidak ditemukan."), code="task_not_found")
    works_on = officer_agency_id(actor) == task.agency_id and actor.role == task.role
    if not works_on and not (release and can_supervise_agency(actor, task.agency_id)):
        raise Forbidden(_("Tahap ini dikerjakan %(role)s %(agency)s; Anda tidak berwenang.")
                        % {"role": Role(task.role).label, "agency": task.agency.short_name}, code="wrong_role")
    if app.status in FINAL_STATUSES:
        raise Conflict(_("Permohonan ini sudah selesai (%(s)s).") % {"s": app.get_status_display()}, code="application_final")
    if app.status == Status.RETURNED:
        raise Conflict(_("Permohonan sedang dikembalikan ke pemohon untuk perbaikan."), code="application_returned")
    if task.status != TaskStatus.ACTIVE:
        raise Conflict(_("Tahap ini sudah diputuskan atau belum dimulai (%(s)s).") % {"s": task.get_status_display()},
                       code="task_not_active")
    _check_revision(app, revision)
    if not release and task.holder_id not in (None, actor.pk):
        raise Conflict(_("Tahap ini sedang ditangani petugas lain."), code="claimed_by_other")
    return app, task, tasks


def _claimant(user: User) -> dict:
    """Whose claim was released, as the audit entry names them."""
    return {"user": str(user.uuid), "name": user.full_name}


def _decide(task: StageTask, actor, status: str, note: str) -> None:
    task.status, task.decided_by, task.decided_at, task.note = status, actor, timezone.now(), note
    if task.holder_id != actor.pk:  # unclaimed, or claimed by an officer who can no longer work it
        task.claimed_by, task.claimed_at = actor, task.decided_at
    task.save(update_fields=["status", "decided_by", "decided_at", "note", "claimed_by", "claimed_at"])


@transaction.atomic
def task_claim(*, actor, task: StageTask, revision: int | None = None) -> StageTask:
    """Take the stage. A claim left by an officer since deactivated or moved is taken over (the
    audit entry names them)."""
    app, task, _tasks = _task_for_decision(actor, task, revision)
    previous = task.claimed_by if task.claimed_by_id not in (None, actor.pk) else None
    task.claimed_by, task.claimed_at = actor, timezone.now()
    task.save(update_fields=["claimed_by", "claimed_at"])
    _touch(app)
    changes = {"stage": task.stage_key, "agency": task.agency.slug}
    if previous is not None:
        changes["released"] = _claimant(previous)
    audit.record(actor=actor, action="application.task_claimed", obj=app, changes=changes)
    return task


@transaction.atomic
def task_unclaim(*, actor, task: StageTask, revision: int | None = None) -> StageTask:
    """Release the stage: by the officer who claimed it; by the agency's head or admin or the
    mall administrator whoever claimed it (the officer is on leave or gone); by another officer of
    the stage when the claimer can no longer work it. The audit entry names whose claim it was."""
    app, task, _tasks = _task_for_decision(actor, task, revision, release=True)
    holder = task.claimed_by
    if holder is None:
        raise Conflict(_("Tahap ini belum diambil siapa pun."), code="not_claimed")
    if holder.pk != actor.pk and task.holder_id is not None and not can_supervise_agency(actor, task.agency_id):
        raise Conflict(_("Tahap ini sedang ditangani petugas lain."), code="claimed_by_other")
    task.claimed_by, task.claimed_at = None, None
    task.save(update_fields=["claimed_by", "claimed_at"])
    _touch(app)
    changes = {"stage": task.stage_key, "agency": task.agency.slug}
    if holder.pk != actor.pk:
        changes["released"] = _claimant(holder)
    audit.record(actor=actor, action="application.task_unclaimed" if holder.pk == actor.pk else "application.task_released",
                 obj=app, changes=changes)
    return task


def officer_claims_release(*, actor, officer: User, why: str) -> int:
    """Release every running stage `officer` holds, as part of the caller's change to the officer
    (deactivated, or given another role: their claim would hold nobody but still show as theirs,
    and the inbox's "unclaimed" filter would miss the stage). Each application is locked as a
    decision locks it, in one order; one `application.task_released` entry per application, with
    `why`. The caller checked the permission (`identity.services.officer_update`) and holds the
    transaction. Returns the number of stages released."""
    held = StageTask.objects.filter(claimed_by=officer, status=TaskStatus.ACTIVE)
    app_ids = sorted(set(held.values_list("application_id", flat=True)))
    if not app_ids:
        return 0
    apps = {a.pk: a for a in Application.objects.select_for_update(of=("self",)).filter(pk__in=app_ids).order_by("pk")}
    tasks = list(held.filter(application_id__in=list(apps)).select_related("agency").order_by("application_id", "position"))
    StageTask.objects.filter(pk__in=[t.pk for t in tasks]).update(claimed_by=None, claimed_at=None)
    by_app: dict[int, list[StageTask]] = {}
    for t in tasks:
        by_app.setdefault(t.application_id, []).append(t)
    for app_id, group in by_app.items():
        app = apps[app_id]
        _touch(app)
        audit.record(actor=actor, action="application.task_released", obj=app, changes={
            "stage": group[0].stage_key, "stages": [t.stage_key for t in group], "agency": group[0].agency.slug,
            "released": _claimant(officer), "why": why})
    return len(tasks)


def _clean_reason(reason: str, code: str, message: str, too_long: str | None = None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(message, code=code)
    if len(reason) > MAX_TEXT:
        raise InvalidInput(too_long or _("Alasan maksimal %(n)d karakter.") % {"n": MAX_TEXT}, code="reason_too_long")
    return reason


def _check_report(app: Application, task: StageTask, report: Document | None) -> None:
    """A stage that takes a report gets one of the report type, uploaded for this stage of this
    application by one of its officers while it ran (`application_upload`); other stages none."""
    if not task.takes_report:
        if report is not None:
            raise InvalidInput(_("Tahap ini tidak memerlukan berita acara pemeriksaan (BAP)."), code="report_not_expected")
        return
    if report is None:
        raise InvalidInput(_("Unggah berita acara pemeriksaan (BAP) tinjau lapangan sebelum menyetujui."),
                           code="report_missing")
    if report.document_type.code != REPORT_DOCUMENT_TYPE:
        raise InvalidInput(_("Dokumen ini bukan berita acara pemeriksaan (BAP): jenisnya %(t)s.")
                           % {"t": report.document_type.name}, code="report_wrong_type")
    if report.owner_id != app.applicant_id or not StageReport.objects.filter(task=task, document=report).exists():
        raise InvalidInput(_("BAP harus diunggah petugas %(agency)s untuk tahap ini pada permohonan ini, setelah "
                             "tahapnya dimulai.") % {"agency": task.agency.short_name}, code="foreign_report")


@transaction.atomic
def task_approve(*, actor, task: StageTask, note: str = "", report: Document | None = None,
                 revision: int | None = None) -> Application:
    """Pass this agency's part of the stage; when the whole stage has passed, the next stages
    start; when nothing is left, the application is approved."""
    app, task, tasks = _task_for_decision(actor, task, revision)
    note = (note or "").strip()
    if len(note) > MAX_TEXT:  # as a reason that long is: refused, not cut
        raise InvalidInput(_("Catatan maksimal %(n)d karakter.") % {"n": MAX_TEXT}, code="note_too_long")
    _check_report(app, task, report)
    if report is not None:
        task.report = report
        task.save(update_fields=["report"])
    today = clock.today(app.agency.site)
    _decide(task, actor, TaskStatus.APPROVED, note)
    stage_passed = _stage_done(tasks, task.stage_key)
    fields = ["status"]
    if stage_passed and task.kind == StageKind.COMPLETENESS_CHECK and app.sla_started_on is None:
        app.status, app.sla_started_on = Status.IN_PROCESS, today
        fields.append("sla_started_on")
    started = _activate_ready(app, tasks, today) if stage_passed else []
    finished = all(t.status == TaskStatus.APPROVED for t in tasks)
    if finished:
        app.status, app.decided_at = Status.APPROVED, timezone.now()
        fields.append("decided_at")
    _refresh_due(app, tasks, today)
    _touch(app, *fields, "due_on")
    audit.record(actor=actor, action="application.approved" if finished else "application.stage_approved", obj=app,
                 changes={"stage": task.stage_key, "agency": task.agency.slug, "stage_passed": stage_passed,
                          "started": [t.stage_key for t in started], "note": note,
                          "report": str(report.uuid) if report else None})
    if finished:
        events.approved(app, actor=actor, tasks=tasks)
    elif stage_passed:
        events.stage_passed(app, actor=actor, task=task, started=started, tasks=tasks)
    return app


@transaction.atomic
def task_return(*, actor, task: StageTask, reason: str, revision: int | None = None) -> Application:
    """Send the file back to the applicant for correction; the SLA clock pauses until resubmission."""
    app, task, tasks = _task_for_decision(actor, task, revision)
    reason = _clean_reason(reason, "reason_missing", _("Tuliskan apa yang harus diperbaiki pemohon."))
    today = clock.today(app.agency.site)
    Pause.objects.create(application=app, started_on=today)
    app.status, app.return_reason = Status.RETURNED, reason
    task.note = reason
    task.save(update_fields=["note"])
    _refresh_due(app, tasks, today)
    _touch(app, "status", "return_reason", "due_on")
    audit.record(actor=actor, action="application.returned", obj=app,
                 changes={"stage": task.stage_key, "agency": task.agency.slug, "reason": reason})
    events.returned(app, actor=actor, task=task, tasks=tasks)
    return app


@transaction.atomic
def task_reject(*, actor, task: StageTask, reason: str, legal_basis: str, revision: int | None = None) -> Application:
    """Refuse the application, giving the reason and its legal basis (the article of the
    regulation); both reach the applicant in the rejection. One rejection ends it."""
    app, task, tasks = _task_for_decision(actor, task, revision)
    reason = _clean_reason(reason, "legal_reason_missing", _("Penolakan wajib menyebut alasannya."))
    legal_basis = _clean_reason(legal_basis, "legal_basis_missing",
                                _("Penolakan wajib menyebut dasar hukumnya (pasal peraturan)."),
                                _("Dasar hukum maksimal %(n)d karakter.") % {"n": MAX_TEXT})
    # one text, as the applicant reads it on the page, in the notification and through the API
    stored = f"{reason}\n\nDasar hukum: {legal_basis}"
    _decide(task, actor, TaskStatus.REJECTED, stored)
    for t in tasks:
        if t.pk != task.pk and t.status in (TaskStatus.WAITING, TaskStatus.ACTIVE):
            t.status = TaskStatus.CANCELLED
            t.save(update_fields=["status"])
    app.status, app.reject_reason, app.decided_at = Status.REJECTED, stored, timezone.now()
    _touch(app, "status", "reject_reason", "decided_at")
    audit.record(actor=actor, action="application.rejected", obj=app,
                 changes={"stage": task.stage_key, "agency": task.agency.slug, "reason": reason,
                          "legal_basis": legal_basis})
    events.rejected(app, actor=actor, tasks=tasks)
    return app


# ---------------------------------------------------------------------------- escalation

def stage_escalate_overdue(*, actor=None, today: date | None = None) -> int:
    """Tell the agency head and the mall administrators about every stage past its due date
    (once per stage). Each application is escalated in its own transaction."""
    actor = actor or SystemActor("escalation")
    require_mall_admin(actor)
    from satupintu.catalog.selectors import site_current

    site = site_current()
    if site is None:
        return 0
    day = today or clock.today(site)
    # only the late ones (an active stage has a deadline exactly while its file is open)
    late = list(StageTask.objects.filter(status=TaskStatus.ACTIVE, escalated_at__isnull=True, due_on__lt=day)
                .order_by("due_on", "id").values_list("id", "agency_id"))
    if not late:
        return 0
    # who is told, read once per run: the mall administrators of every late stage, the heads of its agency
    admins, heads = events.mall_admins(), events.agency_heads(agency for _id, agency in late)
    count = 0
    for task_id, _agency in late:
        with transaction.atomic():
            task = StageTask.objects.select_related("application", "agency").get(pk=task_id)
            app = _lock(task.application)
            task.refresh_from_db()
            if task.status != TaskStatus.ACTIVE or task.escalated_at is not None or app.status not in OPEN_STATUSES:
                continue
            task.escalated_at = timezone.now()
            task.save(update_fields=["escalated_at"])
            audit.record(actor=actor, action="application.escalated", obj=app,
                         changes={"stage": task.stage_key, "agency": task.agency.slug, "due_on": task.due_on})
            events.overdue(app, actor=actor, task=task, admins=admins, heads=heads)
            count += 1
    return count
