from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja.responses import Status
from ninja import Field, Query, Router, Schema

from satupintu.config.api import actor_of
from satupintu.core.clock import site_today
from satupintu.core.pagination import paginate

from . import eligibility, selectors, services
from .content import version_content
from .models import DocumentType

router = Router(tags=["catalog"])

Kind = Literal["perizinan", "non_perizinan", "layanan_instansi"]
ApplicantTypeLit = Literal["perorangan", "badan_usaha"]


class AgencyRef(Schema):
    uuid: UUID
    slug: str
    name: str
    short_name: str


class AgencyOut(AgencyRef):
    kind: str
    description: str
    phone: str
    email: str
    website: str
    service_count: int


class CounterOut(Schema):
    code: str
    name: str
    is_active: bool


class AgencyDetailOut(AgencyOut):
    counters: list[CounterOut]


class ServiceSummaryOut(Schema):
    uuid: UUID
    slug: str
    name: str
    kind: str
    agency: AgencyRef
    fee: int | None
    fee_variable: bool | None
    completion_days: int | None
    current_version: int | None


class RequirementOut(Schema):
    type: str
    name: str
    mandatory: bool
    note: str


class StageOut(Schema):
    key: str
    kind: str = Field(..., description="completeness_check | data_entry | technical_review | field_inspection | "
                                       "technical_team | approval | handover")
    name: str
    agencies: list[str] = Field(..., description="agency slugs; two or more only for technical_team (parallel review)")
    role: str = Field(..., description="front_office | verifier | technical_reviewer | head")
    sla_days: int = Field(..., description="working days, 0 = same day")
    after: list[str] = Field(..., description="keys of the stages that must be finished first")


class StageIn(Schema):
    key: str
    kind: str
    name: str
    agencies: list[str] = Field(..., description='agency slugs of the site; "{owner}" = the service\'s own agency')
    role: str
    sla_days: int
    after: list[str]


class VersionOut(Schema):
    number: int
    status: str
    published_at: datetime | None
    name: str
    description: str
    applicant_types: list[str]
    requirements: list[RequirementOut]
    procedure: list[str]
    completion_days: int
    fee: int
    fee_variable: bool
    fee_basis: str
    product: str
    complaint_channels: list[str]
    legal_basis: list[str]
    facilities: list[str]
    competence: str
    internal_supervision: str
    staff: str
    service_guarantee: str
    security_guarantee: str
    performance_evaluation: str
    region_prefixes: list[str]
    min_age: int | None
    workflow: list[StageOut]
    deemed_approval: bool = Field(..., description="fiktif positif: deemed granted when no decision is made within "
                                                   "completion_days working days of the file being complete")


class ServiceDetailOut(ServiceSummaryOut):
    standard: VersionOut | None
    expected_completion_if_complete_today: date | None


class VersionSummaryOut(Schema):
    number: int
    status: str
    name: str
    created_at: datetime
    published_at: datetime | None


class ServicePage(Schema):
    count: int
    count_capped: bool = Field(False, description="more services match than `count`: refine the query")
    page: int
    page_size: int
    pages: int
    results: list[ServiceSummaryOut]


class AgencyPage(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    results: list[AgencyOut]


class RequirementIn(Schema):
    type: str
    mandatory: bool = True
    note: str = ""


class ContentIn(Schema):
    name: str | None = None
    description: str | None = None
    applicant_types: list[str] | None = None
    requirements: list[RequirementIn] | None = None
    procedure: list[str] | None = None
    completion_days: int | None = None
    fee: int | None = None
    fee_variable: bool | None = None
    fee_basis: str | None = None
    product: str | None = None
    complaint_channels: list[str] | None = None
    legal_basis: list[str] | None = None
    facilities: list[str] | None = None
    competence: str | None = None
    internal_supervision: str | None = None
    staff: str | None = None
    service_guarantee: str | None = None
    security_guarantee: str | None = None
    performance_evaluation: str | None = None
    region_prefixes: list[str] | None = None
    min_age: int | None = None
    workflow: list[StageIn] | None = Field(None, description="stages in execution order; required to publish")
    deemed_approval: bool | None = None


class ServiceCreateIn(ContentIn):
    agency: str = Field(..., description="slug or UUID of the agency")
    slug: str
    kind: Kind


class EligibilityIn(Schema):
    nik: str
    applicant_type: ApplicantTypeLit = "perorangan"
    on: date | None = None


class ReasonOut(Schema):
    code: str
    message: str


class EligibilityOut(Schema):
    eligible: bool
    reasons: list[ReasonOut]
    applicant: dict


class DocumentTypeOut(Schema):
    code: str
    name: str
    description: str


class ServiceFilters(Schema):
    q: str = Field("", description="search words (Indonesian, stemmed)")
    agency: str | None = Field(None, description="agency slug or UUID")
    kind: Kind | None = None
    page: int = 1
    page_size: int = 20


def version_out(version) -> dict:
    data = version_content(version)
    data["requirements"] = [
        {"type": r.document_type.code, "name": r.document_type.name, "mandatory": r.mandatory, "note": r.note}
        for r in version.requirements.all()
    ]
    return {**data, "number": version.number, "status": version.status, "published_at": version.published_at}


def summary_out(service) -> dict:
    v = service.current_version
    return {
        "uuid": service.uuid, "slug": service.slug, "name": service.name, "kind": service.kind, "agency": service.agency,
        "fee": v.fee if v else None, "fee_variable": v.fee_variable if v else None, "completion_days": v.completion_days if v else None,
        "current_version": v.number if v else None,
    }


def page_out(page, shape=lambda x: x) -> dict:
    return {"count": page.count, "count_capped": page.capped, "page": page.page, "page_size": page.page_size, "pages": page.pages,
            "results": [shape(x) for x in page.items]}


@router.get("/agencies", response=AgencyPage, summary="Agencies (tenants) of the mall")
def agency_list(request, page: int = 1, page_size: int = 50):
    return page_out(paginate(selectors.agency_list(actor=actor_of(request)), page=page, page_size=page_size))


@router.get("/agencies/{key}", response=AgencyDetailOut, summary="One agency, by slug or UUID, with its counters")
def agency_detail(request, key: str):
    agency = selectors.agency_get(actor=actor_of(request), key=key)
    agency.counters_list = list(agency.counters.filter(is_active=True))
    out = AgencyOut.from_orm(agency).dict()
    return {**out, "counters": agency.counters_list}


def _search(request, filters: ServiceFilters):
    actor = actor_of(request)
    agency = selectors.agency_get(actor=actor, key=filters.agency) if filters.agency else None
    page = selectors.service_search(actor=actor, query=filters.q, agency=agency, kind=filters.kind,
                                    page=filters.page, page_size=filters.page_size)
    return page_out(page, summary_out)


@router.get("/services", response=ServicePage, summary="The catalogue: filter by agency and kind, search with q")
def service_list(request, filters: Query[ServiceFilters]):
    return _search(request, filters)


@router.get("/search", response=ServicePage, summary="Indonesian full-text search of services (ranked)")
def service_search(request, filters: Query[ServiceFilters]):
    return _search(request, filters)


@router.get("/document-types", response=list[DocumentTypeOut], summary="Document types requirements refer to")
def document_types(request):
    return DocumentType.objects.order_by("code")


@router.get("/services/{uuid}", response=ServiceDetailOut, summary="A service with its current standar pelayanan")
def service_detail(request, uuid: UUID):
    actor = actor_of(request)
    service = selectors.service_get(actor=actor, key=str(uuid))
    out = summary_out(service)
    if service.current_version_id:
        version = selectors.service_version_get(actor=actor, service=service)
        site = selectors.site_current()
        due, _skipped = selectors.expected_completion(site=site, version=version, start=site_today(site))
        return {**out, "standard": version_out(version), "expected_completion_if_complete_today": due}
    return {**out, "standard": None, "expected_completion_if_complete_today": None}


@router.get("/services/{uuid}/versions", response=list[VersionSummaryOut], summary="Versions of a service")
def service_versions(request, uuid: UUID):
    actor = actor_of(request)
    service = selectors.service_get(actor=actor, key=str(uuid))
    return selectors.service_versions(actor=actor, service=service)


@router.get("/services/{uuid}/versions/{number}", response=VersionOut, summary="One version of a service's standard")
def service_version(request, uuid: UUID, number: int):
    actor = actor_of(request)
    service = selectors.service_get(actor=actor, key=str(uuid))
    return version_out(selectors.service_version_get(actor=actor, service=service, number=number))


@router.post("/services/{uuid}/eligibility", response=EligibilityOut, summary="Am I eligible? (by NIK)")
def service_eligibility(request, uuid: UUID, payload: EligibilityIn):
    actor = actor_of(request)
    service = selectors.service_get(actor=actor, key=str(uuid))
    version = selectors.service_version_get(actor=actor, service=service)
    result = eligibility.check(version, nik=payload.nik, applicant_type=payload.applicant_type, on=payload.on)
    return {"eligible": result.eligible, "reasons": result.reasons, "applicant": result.facts.as_dict()}


@router.post("/services", response={201: VersionOut}, summary="Create a service (officer): its first draft")
def service_create(request, payload: ServiceCreateIn):
    actor = actor_of(request)
    agency = selectors.agency_get(actor=actor, key=payload.agency)
    content = payload.dict(exclude_unset=True, exclude={"agency", "slug", "kind"})
    version = services.service_create(actor=actor, agency=agency, slug=payload.slug, kind=payload.kind, content=content)
    return Status(201, version_out(selectors.service_version_get(actor=actor, service=version.service, number=version.number)))


@router.post("/services/{uuid}/drafts", response={201: VersionOut}, summary="Open a draft from the published version")
def service_draft_start(request, uuid: UUID):
    actor = actor_of(request)
    service = selectors.service_get(actor=actor, key=str(uuid))
    version = services.service_draft_start(actor=actor, service=service)
    return Status(201, version_out(selectors.service_version_get(actor=actor, service=service, number=version.number)))


@router.patch("/services/{uuid}/versions/{number}", response=VersionOut, summary="Change a draft")
def service_draft_update(request, uuid: UUID, number: int, payload: ContentIn):
    actor = actor_of(request)
    service = selectors.service_get(actor=actor, key=str(uuid))
    version = selectors.service_version_get(actor=actor, service=service, number=number)
    services.service_draft_update(actor=actor, version=version, changes=payload.dict(exclude_unset=True))
    return version_out(selectors.service_version_get(actor=actor, service=service, number=number))


@router.post("/services/{uuid}/versions/{number}/publish", response=VersionOut, summary="Publish a draft")
def service_version_publish(request, uuid: UUID, number: int):
    actor = actor_of(request)
    service = selectors.service_get(actor=actor, key=str(uuid))
    version = selectors.service_version_get(actor=actor, service=service, number=number)
    services.service_version_publish(actor=actor, version=version)
    return version_out(selectors.service_version_get(actor=actor, service=service, number=number))
