"""Reads of the vault, scoped: a person sees their own documents; an officer sees a document
only while an application their agency works on uses it."""

import uuid as uuidlib
from datetime import date

from django.db.models import Q
from django.utils.translation import gettext as _

from satupintu.cases.models import REPORT_DOCUMENT_TYPE
from satupintu.catalog.models import DocumentType
from satupintu.core.errors import NotFound
from satupintu.core.permissions import is_authenticated, officer_agency_id, require_authenticated

from .models import Document


def document_list(*, actor, document_type=None):
    require_authenticated(actor)
    qs = Document.objects.filter(owner=actor).select_related("document_type")
    if document_type is not None:
        qs = qs.filter(document_type=document_type)
    return qs


def upload_types():
    """The document types a person chooses from for an upload to their vault: every type but the
    inspection report (BAP), which only an officer uploads, at the inspection stage."""
    return DocumentType.objects.exclude(code=REPORT_DOCUMENT_TYPE)


def usable(qs, on: date | None = None):
    """Documents that have not expired."""
    on = on or date.today()
    return qs.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))


def documents_offered(*, owner, type_ids, on: date | None = None) -> dict[int, list[Document]]:
    """The owner's unexpired documents per document type, newest first (offered for reuse)."""
    offered: dict[int, list[Document]] = {t: [] for t in type_ids}
    for doc in usable(Document.objects.filter(owner=owner, document_type_id__in=list(type_ids)), on).select_related("document_type"):
        offered[doc.document_type_id].append(doc)
    return offered


def documents_by_uuid(*, keys, owner=None) -> dict:
    """Documents by their UUIDs (text or UUID; a malformed one matches nothing), of `owner` when
    given: for naming documents in a request (whose use the cases services then check)."""
    wanted = set()
    for key in keys:
        try:
            wanted.add(uuidlib.UUID(str(key)))
        except ValueError:
            pass
    # a dict by UUID: no ORDER BY (compiling the model's default order was a quarter of the read's CPU)
    qs = Document.objects.filter(uuid__in=wanted).order_by() if wanted else Document.objects.none()
    return {d.uuid: d for d in (qs if owner is None else qs.filter(owner=owner))}


def officer_may_view(actor, document: Document) -> bool:
    from satupintu.cases.selectors import document_in_agency_work

    agency_id = officer_agency_id(actor)
    return agency_id is not None and document_in_agency_work(document, agency_id)


def document_get(*, actor, uuid) -> Document:
    """A document the actor may open; anyone else gets "not found" (its existence is not told)."""
    if not is_authenticated(actor):
        raise NotFound(_("Dokumen tidak ditemukan."), code="document_not_found")
    doc = Document.objects.select_related("document_type", "owner").filter(uuid=uuid).first()
    if doc is None or not (doc.owner_id == actor.pk or officer_may_view(actor, doc)):
        raise NotFound(_("Dokumen tidak ditemukan."), code="document_not_found")
    return doc


def document_views(*, actor, limit: int = 20) -> list[dict]:
    """Who opened the actor's documents, newest first (as Estonia's Data Tracker shows)."""
    from satupintu.core.models import AuditEntry
    from satupintu.identity.models import User

    require_authenticated(actor)
    # by the owner's documents: the (object_type, object_id) index, not a scan of every view in the mall
    names = {str(u): name for u, name in Document.objects.filter(owner_id=actor.pk).values_list("uuid", "original_name")}
    entries = list(AuditEntry.objects.filter(object_type="vault.document", object_id__in=list(names), action="document.viewed")
                   .order_by("-at", "-id")[:limit])
    people = {u.pk: u for u in User.objects.filter(pk__in={e.actor_id for e in entries}).select_related("agency")}
    return [{"at": e.at, "officer": people.get(e.actor_id), "document": names.get(e.object_id, "")} for e in entries]
