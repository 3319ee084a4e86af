"""Pages of the vault: *Dokumen Saya* (list and upload) and opening a file."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from satupintu.catalog.selectors import document_type_get
from satupintu.core.errors import DomainError, InvalidInput
from satupintu.core.http import int_param
from satupintu.core.pagination import paginate

from . import selectors, services
from .api import serve


@login_required
def my_documents(request):
    status, values = 200, {"document_type": "", "valid_until": ""}
    if request.method == "POST":
        # refused, the form comes back with the type and date chosen (a file cannot be given back)
        values = {k: request.POST.get(k, "") for k in values}
        try:
            dtype = document_type_get(request.POST.get("document_type", ""))
            try:
                valid_until = date.fromisoformat(request.POST["valid_until"]) if request.POST.get("valid_until") else None
            except ValueError:
                raise InvalidInput(_("Tanggal berlaku tidak valid."), code="invalid_date") from None
            upload = request.FILES.get("file")
            services.document_upload(actor=request.user, owner=request.user, document_type=dtype,
                                     name=upload.name if upload else "", data=services.read_upload(upload),
                                     valid_until=valid_until)
        except DomainError as exc:
            messages.error(request, exc.message)
            status = exc.status
        else:
            messages.success(request, _("Dokumen disimpan di brankas Anda."))
            return redirect("vault:list")
    page = paginate(selectors.document_list(actor=request.user), page=int_param(request.GET))
    return render(request, "vault/list.html", {"page": page, "types": selectors.upload_types(), "today": date.today(),
                                               "values": values, "views": selectors.document_views(actor=request.user)},
                  status=status)


@login_required
def open_document(request, uuid):
    return serve(request, request.user, uuid)
