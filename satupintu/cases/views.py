"""Pages for applications: the applicant's drafts and *Permohonan Saya*, public tracking, the
officer's inbox and application page with its decision forms, and walk-in filing."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from satupintu.catalog.selectors import document_type_get, service_get, service_list
from satupintu.core.errors import DomainError, InvalidInput, NotFound
from satupintu.core.http import client_ip, int_param
from satupintu.core.permissions import officer_agency_id
from satupintu.identity.models import Role
from satupintu.vault.models import Document
from satupintu.vault.selectors import documents_offered
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
    try:
        app = services.application_create(actor=request.user, service=service)
    except DomainError as exc:
        return _fail(request, exc, "catalog:service_detail", agency_slug, slug)
    return redirect("cases:detail", app.uuid)


def _detail_context(request, app) -> dict:
    requirements = list(app.version.requirements.all())
    attached = {a.requirement_id: a for a in selectors.attachments(app)}
    offered = documents_offered(owner=app.applicant, type_ids={r.document_type_id for r in requirements}) \
        if app.status in EDITABLE_STATUSES and request.user.pk in (app.applicant_id, app.filed_by_id) else {}
    rows = [{"requirement": r, "attachment": attached.get(r.id), "offered": offered.get(r.document_type_id, [])}
            for r in requirements]
    return {
        "app": app, "rows": rows, "deadline": selectors.application_deadline(app),
        "deemed_approved": selectors.deemed_approved(app), "history": selectors.history(actor=request.user, app=app),
        "tasks": list(app.tasks.all()),
    }


@login_required
def detail(request, uuid):
    app = selectors.application_get(actor=request.user, uuid=uuid)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            with transaction.atomic():  # an upload followed by a refused attachment keeps neither
                _applicant_action(request, app, action)
        except DomainError as exc:  # the same page again, with what went wrong and nothing changed
            _tell_error(request, exc)
            status = exc.status
            app = selectors.application_get(actor=request.user, uuid=uuid)
        else:
            if action == "delete":
                return redirect("cases:mine")
            return redirect("cases:detail", app.uuid)
    context = _detail_context(request, app)
    context["editable"] = app.status in EDITABLE_STATUSES and request.user.pk in (app.applicant_id, app.filed_by_id)
    return render(request, "cases/detail.html", context, status=status)


def _applicant_action(request, app, action: str) -> None:
    actor, revision = request.user, int_param(request.POST, "revision", None)
    if action == "save":
        services.application_update(
            actor=actor, application=app, revision=revision,
            **{k: request.POST.get(k, "") for k in ("applicant_type", "business_name", "nib", "npwp", "notes")})
        messages.success(request, _("Perubahan disimpan."))
    elif action == "attach":
        req = next((r for r in app.version.requirements.all() if str(r.id) == request.POST.get("requirement")), None)
        if req is None:
            raise NotFound(_("Persyaratan tidak ditemukan pada layanan ini."), code="requirement_not_found")
        upload = request.FILES.get("file")
        if upload is not None:
            try:
                valid_until = date.fromisoformat(request.POST["valid_until"]) if request.POST.get("valid_until") else None
            except ValueError:
                raise InvalidInput(_("Tanggal berlaku tidak valid."), code="invalid_date") from None
            doc = services.application_upload(actor=actor, application=app, document_type=req.document_type,
                                              name=upload.name, data=read_upload(upload), valid_until=valid_until)
        else:
            doc = Document.objects.filter(uuid=request.POST.get("document") or None, owner=app.applicant).first() \
                if _is_uuid(request.POST.get("document")) else None
            if doc is None:
                raise InvalidInput(_("Pilih dokumen yang tersimpan atau unggah berkas."), code="document_missing")
        services.application_attach(actor=actor, application=app, requirement=req, document=doc)
        messages.success(request, _("Dokumen dilampirkan: %(t)s.") % {"t": req.document_type.name})
    elif action == "submit":
        services.application_submit(actor=actor, application=app, revision=revision)
        app.refresh_from_db()
        messages.success(request, _("Permohonan diajukan. Nomor registrasi Anda: %(n)s.") % {"n": app.tracking_number})
    elif action == "resubmit":
        services.application_resubmit(actor=actor, application=app, revision=revision)
        messages.success(request, _("Permohonan diajukan ulang; prosesnya dilanjutkan dari tahap yang sama."))
    elif action == "delete":
        services.application_draft_delete(actor=actor, application=app)
        messages.success(request, _("Draf dihapus."))
    else:
        raise InvalidInput(_("Tindakan tidak dikenal."), code="unknown_action")


def _is_uuid(value) -> bool:
    import uuid as _uuid

    try:
        _uuid.UUID(str(value))
        return True
    except ValueError:
        return False


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
    return render(request, "cases/inbox.html", {"page": page, "rows": page.items, "filters": g})


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
    context["releasable_ids"] = {t.id for t in context["releasable"]}
    context["actionable_ids"] = {t.id for t in context["actionable"]}
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
            app = services.application_create(actor=request.user, service=service, walk_in=walk_in, ticket=ticket)
        except DomainError as exc:
            _tell_error(request, exc)
            status = exc.status
        else:
            return redirect("cases:detail", app.uuid)
    return render(request, "cases/walk_in.html", {"services": choices, "values": values}, status=status)
