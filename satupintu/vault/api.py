"""The citizen's vault over HTTP: list, upload (checked by content), download."""

from datetime import date, datetime
from uuid import UUID

from django.http import FileResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from satupintu.catalog.selectors import document_type_get
from satupintu.config.api import actor_of
from satupintu.core.pagination import paginate

from . import selectors, services

router = Router(tags=["documents"])


class DocumentOut(Schema):
    uuid: UUID
    document_type: str
    document_type_name: str
    name: str
    content_type: str
    size: int
    valid_until: date | None
    expired: bool
    created_at: datetime


class DocumentPage(Schema):
    count: int
    page: int
    pages: int
    items: list[DocumentOut]


def document_out(doc) -> dict:
    return {
        "uuid": doc.uuid, "document_type": doc.document_type.code, "document_type_name": doc.document_type.name,
        "name": doc.original_name, "content_type": doc.content_type, "size": doc.size, "valid_until": doc.valid_until,
        "expired": doc.valid_until is not None and doc.valid_until < date.today(), "created_at": doc.created_at,
    }


@router.get("/documents", response=DocumentPage, summary="Dokumen di brankas saya")
def list_documents(request, document_type: str = "", page: int = 1, page_size: int = 20):
    dtype = document_type_get(document_type) if document_type else None
    result = paginate(selectors.document_list(actor=actor_of(request), document_type=dtype), page=page, page_size=page_size)
    return {"count": result.count, "page": result.page, "pages": result.pages, "items": [document_out(d) for d in result.items]}


@router.post("/documents", response={201: DocumentOut}, summary="Unggah dokumen (PDF, JPEG, PNG; diperiksa dari isinya)")
def upload_document(request, document_type: Form[str], file: File[UploadedFile], valid_until: Form[date | None] = None):
    actor = actor_of(request)
    doc = services.document_upload(actor=actor, owner=actor, document_type=document_type_get(document_type), name=file.name,
                                   data=services.read_upload(file), valid_until=valid_until)
    return Status(201, document_out(doc))


@router.get("/documents/{uuid}", response=DocumentOut)
def get_document(request, uuid: UUID):
    return document_out(selectors.document_get(actor=actor_of(request), uuid=uuid))


@router.get("/documents/{uuid}/file", summary="Unduh berkas (pemilik, atau petugas instansi yang memproses permohonannya)")
def download_document(request, uuid: UUID):
    return serve(request, actor_of(request), uuid)


def serve(request, actor, uuid) -> FileResponse:
    """The file itself; an officer's view is written to the audit log first."""
    doc = selectors.document_get(actor=actor, uuid=uuid)
    services.document_view_record(actor=actor, document=doc)
    response = FileResponse(doc.file.open("rb"), content_type=doc.content_type, filename=doc.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response
