"""Reads of applications, scoped to who asks: an applicant sees their own; an officer sees the
applications their agency works on, and acts on the stages of their agency and role; the mall
administrator sees all. The public sees a timeline without personal data, given the tracking
number and the applicant's birth date or last four NIK digits."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from satupintu.catalog.models import Requirement
from satupintu.catalog.selectors import site_calendar, site_current
from satupintu.core import ids, ratelimit
from satupintu.core.errors import InvalidInput, NotFound
from satupintu.core.models import AuditEntry
from satupintu.core.pagination import paginate
from satupintu.core.permissions import can_supervise_agency, is_mall_admin, officer_agency_id, require_authenticated
from satupintu.identity.models import Role

from . import clock, sla
from .models import (
    EDITABLE_STATUSES, OPEN_STATUSES, Application, ApplicationDocument, Channel, StageTask, Status, TaskStatus,
    VaultConsent,
)

NOT_FOUND = gettext_lazy("Permohonan tidak ditemukan.")


def _base():
    return Application.objects.select_related("service", "version", "agency__site", "applicant")


def _with_tasks(qs):
    return qs.prefetch_related(
        Prefetch("tasks", queryset=StageTask.objects.select_related("agency", "claimed_by", "report")
                 .order_by("position", "agency_id")),
        Prefetch("attachments", queryset=ApplicationDocument.objects.select_related(
            "requirement__document_type", "document__document_type")),
        Prefetch("version__requirements", queryset=Requirement.objects.select_related("document_type")),
    )


def visible_applications(actor):
    """Every application the actor may read."""
    require_authenticated(actor)
    if is_mall_admin(actor):
        return _base()
    agency_id = officer_agency_id(actor)
    if agency_id is not None:
        works = StageTask.objects.filter(application=OuterRef("pk"), agency_id=agency_id)
        return _base().filter(Q(agency_id=agency_id) | Exists(works)).exclude(status=Status.DRAFT, filed_by__agency_id__isnull=True)
    return _base().filter(Q(applicant=actor) | Q(filed_by=actor))


def application_get(*, actor, uuid) -> Application:
    app = _with_tasks(visible_applications(actor)).filter(uuid=uuid).first()
    if app is None:
        raise NotFound(NOT_FOUND, code="application_not_found")
    return app


def office_application_get(*, actor, uuid) -> Application:
    """An application on the officers' pages (/kantor/): officers of an agency that works on it
    and the mall administrator. Anyone else, its applicant too, finds nothing there, as on the
    rest of /kantor/."""
    require_authenticated(actor)
    if officer_agency_id(actor) is None and not is_mall_admin(actor):
        raise NotFound(NOT_FOUND, code="application_not_found")
    return application_get(actor=actor, uuid=uuid)


def application_list_mine(*, actor, status: str | None = None, page: int = 1, page_size: int = 20,
                          with_tasks: bool = True):
    """*Permohonan Saya*: the applicant's own applications, newest first; `with_tasks=False` for a
    list that shows no stages, documents or requirements (the page: 3 queries fewer)."""
    require_authenticated(actor)
    qs = _base().filter(applicant=actor)
    if with_tasks:
        qs = _with_tasks(qs)
    if status:
        if status not in Status.values:
            raise InvalidInput(_("Status tidak dikenal."), code="invalid_status")
        qs = qs.filter(status=status)
    return paginate(qs.order_by("-created_at", "-id"), page=page, page_size=page_size)


def draft_of_service(*, actor, service) -> Application | None:
    """The actor's own online draft of `service` not yet submitted (the newest, if several were
    made before this was asked): where "Ajukan permohonan daring" takes them back to."""
    require_authenticated(actor)
    return (Application.objects.filter(applicant=actor, filed_by=actor, service=service, status=Status.DRAFT)
            .order_by("-created_at", "-id").first())


def walk_in_drafts(*, actor, limit: int = 50) -> list[Application]:
    """Walk-in drafts the front-office officer filed at the counter and has not submitted yet,
    newest first: the officer's list of files still to finish."""
    require_authenticated(actor)
    return list(Application.objects.filter(filed_by=actor, channel=Channel.WALK_IN, status=Status.DRAFT)
                .select_related("service", "applicant").order_by("-created_at", "-id")[:limit])


def attachments(app: Application) -> list[ApplicationDocument]:
    """The application's attachments in requirement order (uses the prefetch of `_with_tasks`)."""
    return sorted(app.attachments.all(), key=lambda a: (a.requirement.position, a.requirement_id))


def document_in_agency_work(document, agency_id: int) -> bool:
    """Does an application that uses `document` have a stage at `agency_id`?"""
    used = Q(application__attachments__document=document) | Q(report=document)
    return StageTask.objects.filter(used, agency_id=agency_id).exclude(application__status=Status.DRAFT).exists()


def task_get(*, actor, app: Application, task_id: int) -> StageTask:
    task = next((t for t in app.tasks.all() if t.pk == task_id), None)
    if task is None:
        raise NotFound(_("Tahap tidak ditemukan."), code="task_not_found")
    return task


def actionable_tasks(actor, app: Application) -> list[StageTask]:
    """Stages of `app` the actor may decide now."""
    agency_id = officer_agency_id(actor)
    if agency_id is None or app.status not in OPEN_STATUSES:
        return []
    return [t for t in app.tasks.all() if t.status == TaskStatus.ACTIVE and t.agency_id == agency_id and t.role == actor.role]


def releasable_tasks(actor, app: Application) -> list[StageTask]:
    """Running stages of `app` claimed by another officer that the actor may release: the
    agency's head and admin, the mall administrator (uses the prefetch of `_with_tasks`)."""
    if app.status not in OPEN_STATUSES:
        return []
    return [t for t in app.tasks.all() if t.status == TaskStatus.ACTIVE and t.claimed_by_id not in (None, actor.pk)
            and can_supervise_agency(actor, t.agency_id)]


# ---------------------------------------------------------------------------- SLA facts

@dataclass
class Deadline:
    due_on: date | None
    days_left: int | None
    overdue: bool
    due_soon: bool
    paused: bool

    @property
    def days_late(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0


def calendar(site, memo: dict | None = None):
    """The site's working-day calendar; `memo` keeps one per site while a list is rendered."""
    if memo is None:
        return site_calendar(site)
    if site.pk not in memo:
        memo[site.pk] = site_calendar(site)
    return memo[site.pk]


def deadline(site, due_on: date | None, *, paused: bool = False, done: bool = False, today: date | None = None,
             memo: dict | None = None) -> Deadline:
    if due_on is None or done or site is None:
        return Deadline(due_on, None, False, False, paused)
    today = today or clock.today(site)
    left = sla.remaining(calendar(site, memo), today, due_on)
    # late from the day after the deadline, working or not (the inbox's filter, the escalation
    # and fiktif positif say so too); `days_left` counts working days, so it is 0 on the weekend
    # after a Friday deadline
    overdue = today > due_on
    return Deadline(due_on, left, overdue, not overdue and left <= settings.SATUPINTU_SLA_DUE_SOON_DAYS, paused)


def application_deadline(app: Application, today: date | None = None, memo: dict | None = None) -> Deadline:
    return deadline(app.agency.site, app.due_on, paused=app.status == Status.RETURNED, done=app.is_final, today=today,
                    memo=memo)


def deemed_approved(app: Application, today: date | None = None) -> bool:
    """*Fiktif positif*: the service declares it and its legal deadline passed undecided."""
    if not getattr(app.version, "deemed_approval", False) or app.is_final or app.due_on is None:
        return False
    return (today or clock.today(app.agency.site)) > app.due_on


# ---------------------------------------------------------------------------- inbox

INBOX_COUNT_CAP = 1000  # beyond this the inbox says "more than 1,000": counting a backlog is not free


def inbox(*, actor, due: str = "", claimed: str = "", service: str = "", q: str = "", page: int = 1, page_size: int = 20):
    """Stages waiting for the actor: their agency and role, soonest deadline first. The mall
    administrator sees every open stage, overdue first. Returns a page of `InboxRow`s."""
    require_authenticated(actor)
    # an active stage has a deadline exactly while its file is open (none while it is returned
    # to the applicant): the inbox needs no join to the applications to filter
    qs = StageTask.objects.filter(status=TaskStatus.ACTIVE, due_on__isnull=False)
    if not is_mall_admin(actor):
        agency_id = officer_agency_id(actor)
        if agency_id is None:
            raise NotFound(_("Kotak masuk hanya untuk petugas."), code="not_officer")
        qs = qs.filter(agency_id=agency_id)
        if actor.role != Role.AGENCY_ADMIN:  # an agency admin watches every stage of the agency
            qs = qs.filter(role=actor.role)
    site = site_current()
    today = clock.today(site) if site is not None else None
    if due not in ("", "overdue", "due_soon"):
        raise InvalidInput(_("Filter tenggat tidak dikenal."), code="invalid_filter")
    if claimed not in ("", "mine", "unclaimed"):
        raise InvalidInput(_("Filter pengambilan tidak dikenal."), code="invalid_filter")
    if today is not None and due == "overdue":
        qs = qs.filter(due_on__lt=today)
    elif today is not None and due == "due_soon":
        limit, _skipped = site_calendar(site).add_working_days(today, settings.SATUPINTU_SLA_DUE_SOON_DAYS)
        qs = qs.filter(due_on__gte=today, due_on__lte=limit)
    if claimed == "mine":
        qs = qs.filter(claimed_by=actor)
    elif claimed == "unclaimed":
        qs = qs.filter(claimed_by__isnull=True)
    if service:
        qs = qs.filter(application__service__slug=service)
    if q:
        code = ids.normalise(q)
        qs = qs.filter(application__tracking_number=code or q.strip().upper())
    # soonest deadline first, so the overdue ones lead (for the mall administrator too), in the
    # order of the inbox index (agency, role, status, due_on, id). The page is cut on the stage
    # tasks alone and only the page's rows are joined (and put in order again): the statistics see
    # deadlines spread over years (finished stages) and guess a handful of active ones due this
    # week where there may be thousands; planned with the joins, that guess joined and sorted
    # every one of them.
    result = paginate(qs.order_by("due_on", "id"), page=page, page_size=page_size, count_cap=INBOX_COUNT_CAP,
                      load=lambda pks: (StageTask.objects.filter(pk__in=pks).order_by("due_on", "id")
                                        .select_related("agency", "claimed_by", "application__service",
                                                        "application__applicant")))
    memo: dict = {}
    result.items = [InboxRow(t, deadline(site, t.due_on, today=today, memo=memo)) for t in result.items]
    return result


@dataclass
class InboxRow:
    """One waiting stage in an inbox, with its countdown."""

    task: StageTask
    deadline: Deadline


# ---------------------------------------------------------------------------- history and tracking

ACTION_LABELS = {
    "application.created": gettext_lazy("Draf dibuat"),
    "application.updated": gettext_lazy("Data permohonan diubah"),
    "application.document_attached": gettext_lazy("Dokumen dilampirkan"),
    "application.document_detached": gettext_lazy("Lampiran dilepas"),
    "application.submitted": gettext_lazy("Permohonan diajukan"),
    "application.task_claimed": gettext_lazy("Petugas mengambil tahap"),
    "application.task_unclaimed": gettext_lazy("Petugas melepas tahap"),
    "application.task_released": gettext_lazy("Tahap yang diambil petugas lain dilepas"),
    "application.report_uploaded": gettext_lazy("Berita acara pemeriksaan (BAP) diunggah"),
    "application.stage_approved": gettext_lazy("Tahap disetujui"),
    "application.returned": gettext_lazy("Dikembalikan untuk perbaikan"),
    "application.resubmitted": gettext_lazy("Diajukan ulang setelah perbaikan"),
    "application.approved": gettext_lazy("Permohonan disetujui"),
    "application.rejected": gettext_lazy("Permohonan ditolak"),
    "application.escalated": gettext_lazy("Tahap melewati tenggat: dilaporkan ke pimpinan"),
    "application.vault_consent_requested": gettext_lazy("Petugas loket meminta izin memakai dokumen tersimpan pemohon"),
    "application.vault_consent_granted": gettext_lazy("Pemohon mengizinkan dokumen tersimpannya dipakai"),
    "application.vault_consent_failed": gettext_lazy("Kode izin dokumen yang dimasukkan petugas salah"),
}


@dataclass
class HistoryRow:
    at: object
    action: str
    label: str
    stage: str
    note: str


def history(*, actor, app: Application) -> list[HistoryRow]:
    """What happened to one application, from the audit log (the caller already may read it)."""
    tasks = list(app.tasks.all())  # with their agencies (`_with_tasks`)
    names = {t.stage_key: t.name for t in tasks}
    team = {key for key, n in Counter(t.stage_key for t in tasks).items() if n > 1}  # stages of several agencies
    agencies = {t.agency.slug: t.agency.short_name for t in tasks}
    rows = []
    for e in AuditEntry.objects.filter(object_type="cases.application", object_id=str(app.uuid)).order_by("at", "id"):
        c = e.changes or {}
        stage = names.get(c.get("stage", ""), "")
        if c.get("stage") in team and c.get("agency") in agencies:  # which of the team's agencies
            stage = f"{stage} ({agencies[c['agency']]})"
        note = c.get("reason") or c.get("note") or ""
        if c.get("legal_basis"):
            note = f"{note} — {_('Dasar hukum')}: {c['legal_basis']}"
        rows.append(HistoryRow(e.at, e.action, str(ACTION_LABELS.get(e.action, e.action)), stage, note))
    return rows


def tracking_lookup(*, number: str, birth_date: date | None = None, nik_last4: str = "", client: str) -> Application:
    """The application behind a tracking number, when the asker also knows the applicant's birth
    date or the last four digits of their NIK. Limited per client and per number."""
    limit, window = settings.SATUPINTU_TRACKING_LIMIT
    ratelimit.check(f"track:{client}", limit=limit, window_seconds=window)
    code = ids.normalise(number)
    if code is None:
        raise InvalidInput(_("Nomor registrasi tidak valid: periksa lagi, mungkin ada huruf yang salah ketik."),
                           code="tracking_check_digit")
    nik_last4 = (nik_last4 or "").strip()
    if birth_date is None and not (len(nik_last4) == 4 and nik_last4.isdigit()):
        raise InvalidInput(_("Isi tanggal lahir pemohon atau 4 angka terakhir NIK."), code="tracking_secret_missing")
    fail_limit, fail_window = settings.SATUPINTU_TRACKING_FAILURE_LIMIT
    ratelimit.ensure_allowed(f"track-fail:{code}", limit=fail_limit, window_seconds=fail_window)
    tasks = StageTask.objects.select_related("agency").order_by("position", "agency_id")  # the timeline: nothing else
    app = (Application.objects.select_related("version", "agency__site", "service").prefetch_related(Prefetch("tasks", tasks))
           .exclude(status=Status.DRAFT).filter(tracking_number=code).first())
    ok = app is not None and (
        (birth_date is not None and app.applicant_birth_date == birth_date)
        or (nik_last4 and app.applicant_nik_last4 == nik_last4))
    if not ok:
        ratelimit.hit(f"track-fail:{code}", window_seconds=fail_window)
        raise NotFound(_("Permohonan tidak ditemukan untuk nomor dan data pemohon itu."), code="tracking_not_found")
    return app


def may_edit(actor, app: Application) -> bool:
    """The applicant; or the officer who filed it for them at the counter, while they are still a
    front-office officer of the application's agency (moved or deactivated, they are not)."""
    if actor.pk == app.applicant_id:
        return True
    return actor.pk == app.filed_by_id and officer_agency_id(actor) == app.agency_id and actor.role == Role.FRONT_OFFICE


CONSENT_VALID_HOURS = 8  # a consent is good for the counter visit it was given in, not for later ones


def vault_consent_granted(app: Application) -> bool:
    """Did the applicant let the officer filing for them use their stored documents, in the last
    CONSENT_VALID_HOURS (a return for correction weeks later needs the applicant's code again)?"""
    since = timezone.now() - timedelta(hours=CONSENT_VALID_HOURS)
    return VaultConsent.objects.filter(application=app, granted_at__gt=since).exists()


def documents_to_attach(*, actor, app: Application, requirements) -> tuple[dict, bool]:
    """The stored documents the actor may attach to `app`, per document type (unexpired, newest
    first), and whether the applicant's consent is in place. The applicant sees all of theirs;
    the officer filing for them (a walk-in) those they scanned themself, and the rest once the
    applicant consented (`services.vault_consent_grant`); anyone else is told the application is
    not found. Nothing is offered once the application is filed."""
    from satupintu.vault.selectors import documents_offered

    if not may_edit(actor, app):
        raise NotFound(str(NOT_FOUND), code="application_not_found")
    if app.status not in EDITABLE_STATUSES:
        return {}, False
    offered = documents_offered(owner=app.applicant, type_ids={r.document_type_id for r in requirements})
    if actor.pk == app.applicant_id:
        return offered, False
    if vault_consent_granted(app):
        return offered, True
    return {t: [d for d in docs if d.uploaded_by_id == actor.pk] for t, docs in offered.items()}, False
