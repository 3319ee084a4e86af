"""Pages for applications: the applicant's drafts and *Permohonan Saya*, public tracking, the
officer's inbox and application page with its decision forms, and walk-in filing."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.catalog.selectors import document_type_get, service_get, service_list
from satupintu.core.errors import DomainError, InvalidInput, NotFound
from satupintu.core.http import client_ip, int_param
from satupintu.core.permissions import officer_agency_id
from satupintu.identity.models import Role
from satupintu.vault.models import Document
from satupintu.vault.selectors import documents_by_uuid
from satupintu.vault.services import read_upload

from . import selectors, services
from .models import EDITABLE_STATUSES, REPORT_DOCUMENT_TYPE, Status


def _tell_error(request, exc: DomainError) -> None:
    """The error and each of its details as messages on the page."""
    messages.error(request, exc.message)
    if isinstance(exc.details, dict):
        for value in exc.details.values():
            if isinstance(value, str):
                messages.error(request, value)
            elif isinstance(value, list):
                for item in value:
                    messages.error(request, item.get("message", "") if isinstance(item, dict) else str(item))


def _fail(request, exc: DomainError, target: str, *args):
    _tell_error(request, exc)
    return redirect(target, *args)


# ---------------------------------------------------------------------------- applicant

@login_required
def my_applications(request):
    page = selectors.application_list_mine(actor=request.user, status=request.GET.get("status") or None,
                                           page=int_param(request.GET), with_tasks=False)
    return render(request, "cases/my_applications.html", {"page": page, "statuses": Status.choices,
                                                          "status": request.GET.get("status", "")})


@require_POST
def start(request, agency_slug, slug):
    service = service_get(actor=request.user, key=slug, agency_slug=agency_slug)
    if not request.user.is_authenticated:  # sign in, then come back to the service page
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(reverse("catalog:service_detail", args=[agency_slug, slug]))
    try:  # one tap more (or two at once) is not one draft more: back to the one already begun
        draft = services.application_create(actor=request.user, service=service, reuse_draft=True)
    except DomainError as exc:
        return _fail(request, exc, "catalog:service_detail", agency_slug, slug)
    app = draft.application
    if not draft.created:
        messages.info(request, _("Anda sudah punya draf permohonan layanan ini (dibuat %(d)s). Lanjutkan di sini.")
                      % {"d": date_format(localtime(app.created_at), "j M Y H:i")})
    return redirect("cases:detail", app.uuid)


def _detail_context(request, app) -> dict:
    requirements = list(app.version.requirements.all())
    attached = {a.requirement_id: a for a in selectors.attachments(app)}
    offered, consent = ({}, False) if not selectors.may_edit(request.user, app) else \
        selectors.documents_to_attach(actor=request.user, app=app, requirements=requirements)
    rows = [{"requirement": r, "attachment": attached.get(r.id), "offered": offered.get(r.document_type_id, [])}
            for r in requirements]
    return {
        "app": app, "rows": rows, "deadline": selectors.application_deadline(app),
        "deemed_approved": selectors.deemed_approved(app), "history": selectors.history(actor=request.user, app=app),
        "tasks": list(app.tasks.all()), "consent_granted": consent,
    }


# The draft page is one form: the applicant's data, a stored document or a new file for each
# requirement, and the buttons. Whichever button is pressed ("Simpan", any "Lampirkan", "Ajukan"),
# everything typed and chosen is kept first, then the button's own step runs; all in one
# transaction. Refused, the page comes back with what was typed and chosen, and the errors next
# to the fields.
DATA_FIELDS = ("applicant_type", "business_name", "nib", "npwp", "notes")
DRAFT_ACTIONS = ("save", "attach", "submit", "resubmit")


@login_required
def detail(request, uuid):
    app = selectors.application_get(actor=request.user, uuid=uuid)
    status, posted, errors = 200, None, {}
    if request.method == "POST" and request.POST.get("action") in CONSENT_ACTIONS:
        _consent_action(request, app, request.POST["action"])  # not in the draft's transaction: a wrong code counts
        return redirect("cases:detail", app.uuid)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            with transaction.atomic():  # an upload followed by a refused attachment keeps neither
                notes = _applicant_action(request, app, action)
        except DomainError as exc:  # the same page again, with what went wrong, what was typed, nothing changed
            errors = _tell_draft_error(request, exc)
            status = exc.status
            posted = request.POST
            app = selectors.application_get(actor=request.user, uuid=uuid)
        else:
            for note in notes:
                messages.success(request, note)
            if action == "delete":
                return redirect("cases:inbox" if _files_for_others(request.user, app) else "cases:mine")
            return redirect("cases:detail", app.uuid)
    context = _detail_context(request, app)
    context["editable"] = app.status in EDITABLE_STATUSES and selectors.may_edit(request.user, app)
    context["for_other"] = request.user.pk != app.applicant_id  # a front-office officer's walk-in file
    context["errors"] = errors
    context["values"] = {k: (posted.get(k, getattr(app, k)) if posted is not None else getattr(app, k))
                         for k in DATA_FIELDS}
    for row in context["rows"]:  # the stored document chosen for each requirement: as sent, else as attached
        current = str(row["attachment"].document.uuid) if row["attachment"] else ""
        row["picked"] = posted.get(f"document-{row['requirement'].id}", current) if posted is not None else current
    return render(request, "cases/detail.html", context, status=status)


CONSENT_ACTIONS = ("consent_request", "consent_grant")


def _consent_action(request, app, action: str) -> None:
    """A walk-in filer asks the applicant for a code, or enters the code the applicant read out."""
    try:
        if action == "consent_request":
            consent = services.vault_consent_request(actor=request.user, application=app)
            sent = (_("Kode dikirim ke %(name)s lewat notifikasi di akunnya dan email; berlaku sampai %(time)s. "
                      "Minta pemohon membacakannya.") if app.applicant.email else
                    _("Kode dikirim ke %(name)s lewat notifikasi di akunnya; berlaku sampai %(time)s. Minta pemohon "
                      "membacakannya."))
            messages.success(request, sent % {"name": app.applicant.full_name,
                                              "time": date_format(localtime(consent.expires_at), "H:i")})
        else:
            services.vault_consent_grant(actor=request.user, application=app, code=request.POST.get("code", ""))
            messages.success(request, _("Pemohon memberi izin: dokumen yang tersimpan di akunnya kini bisa dipilih."))
    except DomainError as exc:
        _tell_error(request, exc)


def _files_for_others(user, app) -> bool:
    return user.pk != app.applicant_id and (user.is_officer or user.is_mall_admin)


def _tell_draft_error(request, exc: DomainError) -> dict:
    """The error as a message; details about one of the data fields are returned to be shown next
    to that field, the others (missing documents, eligibility) become messages too."""
    messages.error(request, exc.message)
    field_errors = {}
    if isinstance(exc.details, dict):
        for key, value in exc.details.items():
            if key in DATA_FIELDS and isinstance(value, str):
                field_errors[key] = value
            elif isinstance(value, str):
                messages.error(request, value)
            elif isinstance(value, list):
                for item in value:
                    messages.error(request, item.get("message", "") if isinstance(item, dict) else str(item))
    return field_errors


def _applicant_action(request, app, action: str) -> list[str]:
    """Do what the applicant asked; returns the notes to show once it is all stored."""
    actor, revision = request.user, int_param(request.POST, "revision", None)
    if action == "delete":
        services.application_draft_delete(actor=actor, application=app)
        return [_("Draf dihapus.")]
    if action not in DRAFT_ACTIONS:
        raise InvalidInput(_("Tindakan tidak dikenal."), code="unknown_action")
    notes = []
    # 1. the data typed: the service writes (and audits) only what its cleaning finds changed
    typed = {k: request.POST[k] for k in DATA_FIELDS if k in request.POST}
    if typed:
        updated = services.application_update(actor=actor, application=app, revision=revision, **typed)
        revision = None  # checked by this first write: the writes after it are this request's own
        if updated.revision != app.revision:
            notes.append(_("Perubahan disimpan."))
    # 2. each requirement's new file, or a stored document other than the one attached
    attached = {a.requirement_id: a.document for a in selectors.attachments(app)}
    for req in app.version.requirements.all():
        doc = _picked_document(request, app, req, attached.get(req.id))
        if doc is not None:
            services.application_attach(actor=actor, application=app, requirement=req, document=doc, revision=revision)
            revision = None  # checked by the first write: the writes after it are this request's own
            notes.append(_("Dokumen dilampirkan: %(t)s.") % {"t": req.document_type.name})
    # 3. the button's own step
    if action == "attach" and not notes:
        raise InvalidInput(_("Pilih dokumen yang tersimpan atau unggah berkas."), code="document_missing")
    if action == "save" and not notes:
        notes.append(_("Tidak ada perubahan untuk disimpan."))
    elif action == "submit":
        services.application_submit(actor=actor, application=app, revision=revision)
        app.refresh_from_db()
        notes = [(_("Permohonan diajukan. Nomor registrasi pemohon: %(n)s.") if actor.pk != app.applicant_id
                  else _("Permohonan diajukan. Nomor registrasi Anda: %(n)s.")) % {"n": app.tracking_number}]
    elif action == "resubmit":
        services.application_resubmit(actor=actor, application=app, revision=revision)
        notes = [_("Permohonan diajukan ulang; prosesnya dilanjutkan dari tahap yang sama.")]
    return notes


def _picked_document(request, app, req, current: Document | None) -> Document | None:
    """The document to attach to `req` from the form: an uploaded file (stored in the vault
    first), or a stored document chosen other than `current`; None when nothing new."""
    upload = request.FILES.get(f"file-{req.id}")
    if upload is not None:
        raw = request.POST.get(f"valid_until-{req.id}", "")
        try:
            valid_until = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise InvalidInput(_("Tanggal berlaku tidak valid."), code="invalid_date") from None
        return services.application_upload(actor=request.user, application=app, document_type=req.document_type,
                                           name=upload.name, data=read_upload(upload), valid_until=valid_until)
    chosen = request.POST.get(f"document-{req.id}", "")
    if not chosen or (current is not None and chosen == str(current.uuid)):
        return None
    doc = next(iter(documents_by_uuid(keys=[chosen], owner=app.applicant).values()), None)
    if doc is None:
        raise InvalidInput(_("Pilih dokumen yang tersimpan atau unggah berkas."), code="document_missing")
    return doc


# ---------------------------------------------------------------------------- public tracking

def track(request):
    context: dict = {"number": request.GET.get("number", ""), "birth_date": request.GET.get("birth_date", ""),
                     "nik_last4": request.GET.get("nik_last4", "")}
    status = 200
    if context["number"]:
        try:
            birth = date.fromisoformat(context["birth_date"]) if context["birth_date"] else None
        except ValueError:
            birth = None
            context["error"] = _("Tanggal lahir tidak valid.")
            status = 400
        if status == 200:
            try:
                app = selectors.tracking_lookup(number=context["number"], birth_date=birth,
                                                nik_last4=context["nik_last4"], client=client_ip(request))
                context.update(app=app, tasks=list(app.tasks.all()), deadline=selectors.application_deadline(app),
                               deemed_approved=selectors.deemed_approved(app))
            except DomainError as exc:
                context["error"], status = exc.message, exc.status
                if isinstance(exc.details, dict):
                    context["retry_after"] = exc.details.get("retry_after")
    response = render(request, "cases/track.html", context, status=status)
    if status == 429:
        response["Retry-After"] = str((context.get("retry_after") or 60))
    return response


# ---------------------------------------------------------------------------- back office

@login_required
def office_inbox(request):
    g = request.GET
    page = selectors.inbox(actor=request.user, due=g.get("due", ""), claimed=g.get("claimed", ""),
                           service=g.get("service", ""), q=g.get("q", ""), page=int_param(g))
    # a front-office officer's walk-in drafts not yet submitted: files they still have to finish
    drafts = selectors.walk_in_drafts(actor=request.user) if request.user.role == Role.FRONT_OFFICE else []
    return render(request, "cases/inbox.html", {"page": page, "rows": page.items, "filters": g, "drafts": drafts})


@login_required
def office_detail(request, uuid):
    """The officer's page of one application: its documents, stages and history, and the forms of
    the stages the officer may decide or release. A refused decision shows the page again with
    what the officer typed."""
    app = selectors.office_application_get(actor=request.user, uuid=uuid)
    status, posted = 200, None
    if request.method == "POST":
        try:
            with transaction.atomic():  # a BAP upload followed by a refused decision keeps neither
                _officer_action(request, app)
        except DomainError as exc:
            _tell_error(request, exc)
            status, posted = exc.status, _posted(request)
            app = selectors.office_application_get(actor=request.user, uuid=uuid)
        else:
            return redirect("cases:office_detail", app.uuid)
    context = _detail_context(request, app)
    context["actionable"] = selectors.actionable_tasks(request.user, app)
    context["releasable"] = selectors.releasable_tasks(request.user, app)
    context["posted"] = posted
    return render(request, "cases/office_detail.html", context, status=status)


def _posted(request) -> dict:
    """What the officer typed into the form that was refused, to fill it in again."""
    p = request.POST
    task = p.get("task", "")
    return {"task": int(task) if task.isdigit() else None, "action": p.get("action", ""), "note": p.get("note", ""),
            "reason": p.get("reason", ""), "legal_basis": p.get("legal_basis", ""),
            "had_report": "report" in request.FILES}


def _officer_action(request, app) -> None:
    actor, revision = request.user, int_param(request.POST, "revision", None)
    task = selectors.task_get(actor=actor, app=app, task_id=int_param(request.POST, "task", 0))
    action = request.POST.get("action", "")
    if action == "claim":
        services.task_claim(actor=actor, task=task, revision=revision)
        messages.success(request, _("Tahap diambil."))
    elif action == "unclaim":
        holder = task.claimed_by
        services.task_unclaim(actor=actor, task=task, revision=revision)
        if holder is not None and holder.pk != actor.pk:
            messages.success(request, _("Tahap yang diambil %(name)s dilepas; petugas lain bisa mengambilnya.")
                             % {"name": holder.full_name})
        else:
            messages.success(request, _("Tahap dilepas."))
    elif action == "approve":
        report = None
        upload = request.FILES.get("report")
        if upload is not None:
            report = services.application_upload(actor=actor, application=app,
                                                 document_type=document_type_get(REPORT_DOCUMENT_TYPE),
                                                 name=upload.name, data=read_upload(upload))
        services.task_approve(actor=actor, task=task, note=request.POST.get("note", ""), report=report, revision=revision)
        messages.success(request, _("Tahap disetujui."))
    elif action == "return":
        services.task_return(actor=actor, task=task, reason=request.POST.get("reason", ""), revision=revision)
        messages.success(request, _("Berkas dikembalikan ke pemohon untuk perbaikan."))
    elif action == "reject":
        if request.POST.get("confirm") != "yes":  # irreversible: the officer says so in the form
            raise InvalidInput(_("Centang “Saya yakin menolak permohonan ini” untuk menolak: penolakan tidak "
                                 "bisa dibatalkan."), code="reject_unconfirmed")
        services.task_reject(actor=actor, task=task, reason=request.POST.get("reason", ""),
                             legal_basis=request.POST.get("legal_basis", ""), revision=revision)
        messages.success(request, _("Permohonan ditolak."))
    else:
        raise InvalidInput(_("Tindakan tidak dikenal."), code="unknown_action")


@login_required
def walk_in(request):
    """A front-office officer files for a citizen at the counter (optionally from the queue ticket)."""
    agency_id = officer_agency_id(request.user)
    if agency_id is None or request.user.role != Role.FRONT_OFFICE:
        raise NotFound(_("Halaman ini untuk petugas front office."), code="not_front_office")
    choices = service_list(actor=request.user).filter(agency_id=agency_id)
    values = {k: request.POST.get(k, request.GET.get(k, "")) for k in ("nik", "full_name", "phone", "email", "service", "ticket")}
    if request.method == "GET" and values["ticket"] and not values["nik"]:
        from satupintu.queueing.selectors import ticket_by_code

        try:  # the visitor being served: their NIK and service from the ticket, if they gave them
            ticket = ticket_by_code(values["ticket"])
        except DomainError:
            ticket = None
        if ticket is not None and ticket.group.agency_id == agency_id:
            values["nik"] = ticket.nik
            values["service"] = str(ticket.service.uuid) if ticket.service_id else ""
            values["phone"] = ticket.phone
    status = 200
    if request.method == "POST":
        try:
            service = service_get(actor=request.user, key=values["service"]) if values["service"] else None
            if service is None or service.agency_id != agency_id:
                raise InvalidInput(_("Pilih layanan instansi Anda."), code="service_missing")
            ticket = None
            if values["ticket"]:
                from satupintu.queueing.selectors import ticket_by_code

                ticket = ticket_by_code(values["ticket"])
            walk_in = {k: values[k] for k in ("nik", "full_name", "phone", "email")}
            app = services.application_create(actor=request.user, service=service, walk_in=walk_in, ticket=ticket).application
        except DomainError as exc:
            _tell_error(request, exc)
            status = exc.status
        else:
            return redirect("cases:detail", app.uuid)
    return render(request, "cases/walk_in.html", {"services": choices, "values": values}, status=status)
