"""Every write to the vault: storing an upload after checking what it is, and recording an
officer's view of a document."""

import hashlib
import itertools
import time
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from satupintu.cases.models import REPORT_DOCUMENT_TYPE
from satupintu.catalog.models import DocumentType
from satupintu.core import audit
from satupintu.core.errors import Forbidden, InvalidInput
from satupintu.core.permissions import officer_agency_id, require_authenticated, require_mall_admin

from .models import Document, vault_storage
from .sniff import ACCEPTED, sniff




def read_upload(upload) -> bytes:
    """The bytes of an uploaded file, refusing anything over the limit before reading it all."""
    limit = settings.SATUPINTU_VAULT_MAX_BYTES
    if upload is None:
        raise InvalidInput(_("Pilih berkas yang akan diunggah."), code="file_missing")
    if upload.size is not None and upload.size > limit:
        raise InvalidInput(_("Berkas terlalu besar (%(size)s); batasnya %(limit)s.")
                           % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}, code="file_too_large")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(_("Berkas terlalu besar; batasnya %(limit)s.") % {"limit": filesizeformat(limit)},
                           code="file_too_large")
    return data


def document_upload(*, actor, owner, document_type: DocumentType, name: str, data: bytes,
                    valid_until: date | None = None, assisted: bool = False, report: bool = False) -> Document:
    """Keep a file in `owner`'s vault. The type is read from the content: PDF, JPEG or PNG only.
    `assisted`: an officer uploads for the owner, and the caller (cases) has checked that they
    work on the owner's application. `report`: the upload is an inspection report (BAP), and the
    caller (`cases.services.application_upload`) has checked that the officer's inspection stage
    runs; the BAP type is refused on every other upload (the owner's own, a walk-in filer's).
    The file is written first and removed if the row is not stored."""
    require_authenticated(actor)
    if actor.pk != owner.pk and not (assisted and officer_agency_id(actor) is not None):
        raise Forbidden(_("Anda hanya boleh mengunggah ke berkas Anda sendiri."), code="foreign_vault")
    if document_type.code == REPORT_DOCUMENT_TYPE and not report:
        raise InvalidInput(_("Berita acara pemeriksaan (BAP) hanya diunggah petugas pada tahap tinjau lapangan; "
                             "pilih jenis dokumen lain."), code="report_type_reserved")
    limit = settings.SATUPINTU_VAULT_MAX_BYTES
    if not data:
        raise InvalidInput(_("Berkas kosong."), code="file_empty")
    if len(data) > limit:
        raise InvalidInput(_("Berkas terlalu besar; batasnya %(limit)s.") % {"limit": filesizeformat(limit)},
                           code="file_too_large")
    content_type = sniff(data[:16])
    if content_type is None:
        raise InvalidInput(_("Isi berkas bukan PDF, JPEG atau PNG (apa pun nama berkasnya)."), code="file_type")
    if valid_until is not None and valid_until < date.today():
        raise InvalidInput(_("Tanggal berlaku sudah lewat; dokumen kedaluwarsa tidak bisa dipakai."),
                           code="document_expired")
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:150] or "dokumen"
    if not base.lower().endswith(ACCEPTED[content_type]):
        base = base.rsplit(".", 1)[0] + ACCEPTED[content_type]
    doc = Document(owner=owner, document_type=document_type, original_name=base, content_type=content_type,
                   size=len(data), sha256=hashlib.sha256(data).hexdigest(), valid_until=valid_until, uploaded_by=actor)
    doc.file.save("upload", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            doc.save()
            audit.record(actor=actor, action="document.uploaded", obj=doc,
                         changes={"owner": str(owner.uuid), "type": document_type.code, "size": doc.size,
                                  "sha256": doc.sha256, "content_type": content_type})
    except BaseException:
        doc.file.storage.delete(doc.file.name)
        raise
    return doc


def document_view_record(*, actor, document: Document) -> None:
    """An officer opened a citizen's document: written to the audit log (the owner's own views
    are not, and open no transaction)."""
    if actor.pk == document.owner_id:
        return
    with transaction.atomic():
        audit.record(actor=actor, action="document.viewed", obj=document,
                     changes={"owner": str(document.owner.uuid), "type": document.document_type.code})


def vault_sweep(*, actor, older_than: timedelta = timedelta(hours=1)) -> int:
    """Remove files in the vault that no document row names and that are older than `older_than`:
    what a rolled-back upload (a refused attachment or decision after it) or a crash between
    writing the file and committing its row left behind. Returns how many were removed."""
    require_mall_admin(actor)
    if older_than < timedelta(0):
        raise InvalidInput(_("Umur berkas tidak boleh negatif."), code="invalid_age")
    storage = vault_storage()
    root = Path(storage.location)
    if not root.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    old = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.stat().st_mtime < cutoff)
    removed = []
    for names in itertools.batched(old, 500):  # nearly every file is a document's: look them up in chunks
        kept = set(Document.objects.filter(file__in=names).values_list("file", flat=True))
        for name in names:
            if name not in kept:
                storage.delete(name)
                removed.append(name)
    if removed:
        with transaction.atomic():
            audit.record(actor=actor, action="vault.swept", object_type="vault.storage", object_id="-",
                         changes={"removed": len(removed)})
    return len(removed)
