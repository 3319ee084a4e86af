"""Every read of the catalogue, already scoped to what the actor may see: the public sees
published services of active agencies; officers also see their own agency's drafts; the mall
administrator sees everything."""

import copy
import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _

from satupintu.core import revisions
from satupintu.core.calendar import WorkingCalendar
from satupintu.core.errors import InvalidInput, NotFound
from satupintu.core.pagination import Page, check_page, past_end, paginate
from satupintu.core.permissions import can_manage_agency, can_read_agency_internals, is_mall_admin, officer_agency_id

from . import search
from .models import Agency, DocumentType, Requirement, Service, ServiceKind, ServiceVersion, Site, VersionStatus


def site_current() -> Site | None:
    return Site.objects.filter(slug=settings.SATUPINTU_SITE_SLUG).first() or Site.objects.order_by("pk").first()


def document_type_get(code: str) -> DocumentType:
    """A document type by its code (public reference data); an unknown code is a 400."""
    dtype = DocumentType.objects.filter(code=code or "").first() if isinstance(code, str) else None
    if dtype is None:
        raise InvalidInput(_("Jenis dokumen tidak dikenal."), code="unknown_document_type")
    return dtype


def site_calendar(site: Site | None) -> WorkingCalendar:
    closures = dict(site.closures.values_list("date", "reason")) if site else {}
    return WorkingCalendar(closures)


def agency_list(*, actor) -> list[Agency]:
    published = Q(services__is_active=True, services__current_version__isnull=False)
    qs = Agency.objects.annotate(service_count=Count("services", filter=published)).order_by("position", "name")
    if not is_mall_admin(actor):
        qs = qs.filter(is_active=True)
    return qs


def agency_choices(*, actor):
    """Agencies for a filter list: names only, no counts (cheap at national size)."""
    qs = Agency.objects.only("pk", "slug", "short_name", "name").order_by("position", "name")
    return qs if is_mall_admin(actor) else qs.filter(is_active=True)


def agency_get(*, actor, key: str) -> Agency:
    qs = agency_list(actor=actor)
    try:
        lookup = Q(uuid=uuidlib.UUID(str(key)))
    except ValueError:
        lookup = Q(slug=key)
    agency = qs.filter(lookup).first()
    if agency is None:
        raise NotFound(_("Instansi tidak ditemukan."), code="agency_not_found")
    return agency


PUBLIC_SERVICE = Q(is_active=True, agency__is_active=True, current_version__isnull=False)  # what everyone sees


def _visible_services(actor):
    qs = Service.objects.select_related("agency__site", "current_version")
    if is_mall_admin(actor):
        return qs
    own = officer_agency_id(actor)
    return qs.filter(PUBLIC_SERVICE | Q(agency_id=own)) if own else qs.filter(PUBLIC_SERVICE)


def service_list(*, actor, agency: Agency | None = None, kind: str | None = None):
    """Published services (plus the actor's own agency's unpublished ones for its officers)."""
    _check_kind(kind)
    qs = _visible_services(actor)
    if agency is not None:
        qs = qs.filter(agency=agency)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("name", "pk")


def _check_kind(kind):
    if kind and kind not in ServiceKind.values:
        raise InvalidInput(
            _("Jenis layanan harus salah satu dari: %(v)s.") % {"v": ", ".join(ServiceKind.values)}, code="invalid_kind"
        )


def check_query(query: str) -> str:
    query = (query or "").strip()
    limit = settings.SATUPINTU_SEARCH_MAX_QUERY
    if len(query) > limit:
        raise InvalidInput(
            _("Kata kunci terlalu panjang (%(n)d karakter); maksimal %(max)d.") % {"n": len(query), "max": limit},
            code="query_too_long",
        )
    return query


def service_search(*, actor, query: str, agency: Agency | None = None, kind: str | None = None,
                   page: int = 1, page_size: int = 20) -> Page:
    """Ranked full-text search of published services; an empty query lists the catalogue."""
    query = check_query(query)
    _check_kind(kind)
    page, page_size = check_page(page, page_size)
    terms = search.query_terms(query)
    if not query:
        qs = service_list(actor=None, agency=agency, kind=kind)
        return paginate(qs, page=page, page_size=page_size)
    if not terms:
        return Page([], 0, page, page_size)
    offset = (page - 1) * page_size
    agency_id = agency.pk if agency else None
    found = search.search_ids(terms, agency_id=agency_id, kind=kind, limit=page_size, offset=offset)
    if found.total == 0 and len(terms) > 1:  # no service has every word: rank those that have some
        found = search.search_ids(terms, agency_id=agency_id, kind=kind, limit=page_size, offset=offset, match_all=False)
    listed = min(found.total, search.RANK_CAP)
    if page > 1 and offset >= listed:
        if found.capped:
            raise NotFound(_("Hanya %(n)d hasil pertama yang ditampilkan; perjelas kata kunci atau pilih instansi.")
                           % {"n": search.RANK_CAP}, code="page_out_of_range")
        raise past_end(page, found.total, page_size)
    by_id = Service.objects.select_related("agency", "current_version").in_bulk(found.ids)
    return Page([by_id[i] for i in found.ids if i in by_id], listed, page, page_size, capped=found.capped)


def service_get(*, actor, key: str, agency_slug: str | None = None) -> Service:
    """By UUID, or by agency slug + service slug."""
    qs = _visible_services(actor)
    if agency_slug is not None:
        service = qs.filter(agency__slug=agency_slug, slug=key).first()
    else:
        try:
            service = qs.filter(uuid=uuidlib.UUID(str(key))).first()
        except ValueError:
            service = None
    if service is None:
        raise NotFound(_("Layanan tidak ditemukan."), code="service_not_found")
    return service


@dataclass(frozen=True)
class FilingCatalogue:
    """What filing an application reads of the catalogue: the service (with its agency, site and
    current version), that version's requirements in order with their document types, the
    agencies its workflow names (by slug) and the site's working-day calendar. Read-only: one
    process's threads share the copy of it (only `service` is each caller's own)."""

    service: Service
    requirements: tuple[Requirement, ...]
    agencies: Mapping[str, Agency]
    calendar: WorkingCalendar


def filing_catalogue(service: Service) -> FilingCatalogue:
    """Read from the database (3 queries)."""
    version = service.current_version
    requirements = tuple(version.requirements.select_related("document_type")) if version else ()
    slugs = {slug for stage in (version.workflow if version else []) for slug in stage["agencies"]}
    agencies = {a.slug: a for a in Agency.objects.filter(site_id=service.agency.site_id, slug__in=slugs)} if slugs else {}
    return FilingCatalogue(service, requirements, MappingProxyType(agencies), site_calendar(service.agency.site))


# This process's copies of what filing reads, by (agency slug, key), checked against the
# catalogue revision, which a catalogue write anywhere (in any process) changes in the write's
# own transaction (`core.revisions`).
_filings = revisions.ProcessCopies(revisions.CATALOGUE)


def service_for_filing(*, actor, key: str, agency_slug: str | None = None) -> FilingCatalogue:
    """`service_get` and `filing_catalogue` in one. A service the public sees (active, published,
    of an active agency: the same for every actor) comes from this process's copy while the
    catalogue revision is unchanged: 1 query instead of 4. Anything else is read afresh."""
    if agency_slug is None:
        try:  # one spelling of a UUID, so that the copies stay one per service
            key = str(uuidlib.UUID(str(key)))
        except ValueError:
            raise NotFound(_("Layanan tidak ditemukan."), code="service_not_found") from None

    def fetch():
        found = filing_catalogue(service_get(actor=actor, key=key, agency_slug=agency_slug))
        return found, Service.objects.filter(PUBLIC_SERVICE, pk=found.service.pk).exists()  # on a miss only

    found, public = _filings.read((agency_slug, key), fetch, keep=lambda value: value[1])
    return replace(found, service=copy.copy(found.service)) if public else found  # the caller may annotate its own


def _with_requirements(qs):
    return qs.prefetch_related(
        Prefetch("requirements", queryset=Requirement.objects.select_related("document_type").order_by("position", "id"))
    )


def service_versions(*, actor, service: Service):
    qs = ServiceVersion.objects.filter(service=service).order_by("-number")
    if not can_read_agency_internals(actor, service.agency_id):
        qs = qs.exclude(status=VersionStatus.DRAFT)
    return qs


def service_version_get(*, actor, service: Service, number: int | None = None) -> ServiceVersion:
    """A version with its requirements; None → the published one."""
    qs = _with_requirements(service_versions(actor=actor, service=service)).select_related("service__agency")
    version = qs.filter(number=number).first() if number is not None else qs.filter(status=VersionStatus.PUBLISHED).first()
    if version is None:
        raise NotFound(_("Versi layanan tidak ditemukan."), code="version_not_found")
    return version


def service_draft_get(*, actor, service: Service) -> ServiceVersion | None:
    if not can_read_agency_internals(actor, service.agency_id):
        return None
    return _with_requirements(service.versions.filter(status=VersionStatus.DRAFT)).first()


def expected_completion(*, site: Site | None, version: ServiceVersion, start: date):
    """The date an application completed on `start` is due, and the holidays on the way."""
    return site_calendar(site).add_working_days(start, version.completion_days)


def workflow_stages(*, version: ServiceVersion) -> list[dict]:
    """The version's stages for display, each with its Agency rows (one query for all stages)."""
    site_id = version.service.agency.site_id
    slugs = {slug for stage in version.workflow for slug in stage["agencies"]}
    agencies = {a.slug: a for a in Agency.objects.filter(site_id=site_id, slug__in=slugs)} if slugs else {}
    return [{**stage, "agency_rows": [agencies[s] for s in stage["agencies"] if s in agencies]} for stage in version.workflow]


def can_edit(*, actor, service: Service) -> bool:
    return can_manage_agency(actor, service.agency_id)
