"""Every write to the catalogue: sites, agencies, counters, document types and services.

Each function checks permission, changes rows in one transaction and records one audit entry.
"""

import functools

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.core import audit, revisions
from satupintu.core.errors import Conflict, InvalidInput
from satupintu.core.permissions import require_manage_agency, require_mall_admin

from . import search
from .content import CONTENT_FIELDS, LIST_FIELDS, TEXT_FIELDS, clean_content, content_digest, version_content
from .models import Agency, Closure, Counter, DocumentType, Service, ServiceKind, ServiceVersion, Site, VersionStatus

DEFAULTS = {**dict.fromkeys(TEXT_FIELDS, ""), **{f: [] for f in LIST_FIELDS}, "fee": 0, "fee_variable": False, "min_age": None,
            "region_prefixes": [], "requirements": [], "workflow": [], "deemed_approval": False}


def _catalogue_write(fn):
    """`transaction.atomic`, with the revision row locked first. Every catalogue write changes
    that row (`_record`), so it must be the first lock a catalogue write takes: a write that
    locked a service or agency row first and the revision row last could deadlock with a
    transaction that runs several catalogue writes (`profiles.loader.load`), which holds the
    revision row from its first write on."""

    @functools.wraps(fn)
    def write(*args, **kwargs):
        with transaction.atomic():
            revisions.lock(revisions.CATALOGUE)
            return fn(*args, **kwargs)

    return write


def _record(*, actor, action: str, **entry) -> None:
    """The audit entry of a catalogue change, and a new catalogue revision in the same
    transaction: every web process drops its copy of the catalogue when it sees the new token
    (`selectors.service_for_filing`)."""
    audit.record(actor=actor, action=action, **entry)
    revisions.bump(revisions.CATALOGUE)


def _scope(agency: Agency) -> dict:
    """What a service's workflow may refer to: the agencies of its site, its own agency as owner."""
    slugs = set(Agency.objects.filter(site_id=agency.site_id).values_list("slug", flat=True))
    return {"owner_slug": agency.slug, "agency_slugs": slugs}


def _full(content: dict) -> dict:
    return {f: content.get(f, DEFAULTS.get(f)) for f in CONTENT_FIELDS}


def _check_kind(kind: str) -> None:
    if kind not in ServiceKind.values:
        raise InvalidInput(
            _("Jenis layanan harus salah satu dari: %(v)s.") % {"v": ", ".join(ServiceKind.values)},
            code="invalid_service_kind",
        )


def _write_version(version: ServiceVersion, content: dict) -> None:
    for field in CONTENT_FIELDS:
        if field != "requirements" and field in content:
            setattr(version, field, content[field])
    version.save()
    if "requirements" in content:
        version.requirements.all().delete()
        types = {d.code: d for d in DocumentType.objects.filter(code__in=[r["type"] for r in content["requirements"]])}
        version.requirements.bulk_create(
            [
                version.requirements.model(
                    version=version, document_type=types[r["type"]], mandatory=r["mandatory"], note=r["note"], position=i
                )
                for i, r in enumerate(content["requirements"])
            ]
        )


def _reindex_agency(agency: Agency) -> None:
    """An agency's names are part of its services' search text: refresh them after a rename."""
    for service in agency.services.filter(current_version__isnull=False).select_related("agency", "current_version"):
        service.agency = agency
        _index(service, service.current_version)


def _index(service: Service, version: ServiceVersion) -> None:
    """Copy the published version's name and stemmed text onto the catalogue row."""
    agency = service.agency
    reqs = " ".join(f"{r.document_type.name} {r.note}" for r in version.requirements.select_related("document_type"))
    service.name = version.name
    service.search_title = search.stem_text(version.name)
    service.search_body = search.stem_text(
        " ".join([version.description, version.product, reqs, agency.name, agency.short_name])
    )
    service.current_version = version
    service.save(update_fields=["name", "search_title", "search_body", "current_version"])


@_catalogue_write
def service_create(*, actor, agency: Agency, slug: str, kind: str, content: dict) -> ServiceVersion:
    """A new service with its first draft (version 1). Publish it to make it public."""
    require_manage_agency(actor, agency.pk)
    _check_kind(kind)
    cleaned = _full(clean_content(content, **_scope(agency)))
    slug = (slug or "").strip().lower()
    if not slug or len(slug) > 80 or not all(c.isascii() and (c.isalnum() or c == "-") for c in slug):
        raise InvalidInput(_("Slug hanya boleh huruf kecil, angka dan tanda hubung."), code="invalid_slug")
    if Service.objects.filter(agency=agency, slug=slug).exists():
        raise Conflict(_("Instansi ini sudah punya layanan dengan slug '%(s)s'.") % {"s": slug}, code="duplicate_service")
    try:
        with transaction.atomic():
            service = Service.objects.create(agency=agency, slug=slug, kind=kind, name=cleaned["name"])
    except IntegrityError:  # a concurrent create of the same slug won
        raise Conflict(_("Instansi ini sudah punya layanan dengan slug '%(s)s'.") % {"s": slug}, code="duplicate_service") from None
    version = ServiceVersion(service=service, number=1, status=VersionStatus.DRAFT, created_by=_user(actor))
    _write_version(version, cleaned)
    _record(actor=actor, action="service.created", obj=service, changes={"slug": slug, "kind": kind, "version": 1})
    return version


@_catalogue_write
def service_draft_start(*, actor, service: Service) -> ServiceVersion:
    """Open a draft copied from the published version; the published one stays as it is."""
    require_manage_agency(actor, service.agency_id)
    service = Service.objects.select_for_update().get(pk=service.pk)
    if service.versions.filter(status=VersionStatus.DRAFT).exists():
        raise Conflict(_("Layanan ini sudah punya draf yang belum diterbitkan."), code="draft_exists")
    base = service.current_version
    if base is None:
        raise Conflict(_("Layanan ini belum pernah terbit; ubah drafnya."), code="no_published_version")
    number = (service.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = ServiceVersion(service=service, number=number, status=VersionStatus.DRAFT, created_by=_user(actor))
    _write_version(version, version_content(base))
    _record(actor=actor, action="service.draft_started", obj=service, changes={"version": number})
    return version


@_catalogue_write
def service_draft_update(*, actor, version: ServiceVersion, changes: dict) -> ServiceVersion:
    """Change a draft's content. Published versions never change."""
    require_manage_agency(actor, version.service.agency_id)
    version = ServiceVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise Conflict(_("Versi yang sudah terbit tidak dapat diubah; buat draf baru."), code="version_not_draft")
    if "completion_days" in changes and "workflow" not in changes and version.workflow:
        changes = {**changes, "workflow": version.workflow}  # the stages' SLAs must still fit
    cleaned = clean_content(changes, partial=True, completion_days=version.completion_days,
                            **_scope(version.service.agency))
    merged_fee = cleaned.get("fee", version.fee) or cleaned.get("fee_variable", version.fee_variable)
    merged_basis = cleaned.get("fee_basis", version.fee_basis)
    if merged_fee and not merged_basis.strip():
        raise InvalidInput(
            _("Isian standar pelayanan tidak valid."), code="invalid_service_content",
            details={"fee_basis": _("Dasar hukum biaya wajib diisi bila biaya lebih dari Rp0.")},
        )
    _write_version(version, cleaned)
    _record(
        actor=actor, action="service.draft_updated", obj=version.service,
        changes={"version": version.number, "fields": sorted(cleaned)},
    )
    return version


@_catalogue_write
def service_version_publish(*, actor, version: ServiceVersion) -> ServiceVersion:
    """Publish a draft: it becomes the current standard, the previous one stays readable."""
    require_manage_agency(actor, version.service.agency_id)
    service = Service.objects.select_for_update().select_related("agency").get(pk=version.service_id)
    version = ServiceVersion.objects.select_for_update().get(pk=version.pk)  # a concurrent draft edit waits
    if version.status != VersionStatus.DRAFT:
        raise Conflict(_("Hanya draf yang dapat diterbitkan."), code="version_not_draft")
    content = _full(clean_content(version_content(version), publishing=True, **_scope(service.agency)))  # a draft may predate a rule
    _publish(actor, service, version, content)
    return version


def _publish(actor, service: Service, version: ServiceVersion, content: dict) -> None:
    previous = service.current_version_id
    service.versions.filter(status=VersionStatus.PUBLISHED).update(status=VersionStatus.SUPERSEDED)
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = _user(actor)
    version.content_digest = content_digest(service.kind, content)
    version.save(update_fields=["status", "published_at", "published_by", "content_digest"])
    _index(service, version)
    _record(
        actor=actor, action="service.published", obj=service,
        changes={"version": version.number, "previous_version_id": previous, "digest": version.content_digest},
    )


def _user(actor):
    """The account to store in created_by/published_by (a SystemActor has none)."""
    return actor if getattr(actor, "pk", None) is not None else None


# --- reference data: used by the profile loader (mall administrator) --------------------------


@_catalogue_write
def site_upsert(*, actor, slug: str, data: dict, closures: dict) -> tuple[Site, bool]:
    require_mall_admin(actor)
    site = Site.objects.filter(slug=slug).first()
    changed = site is None or any(getattr(site, k) != v for k, v in data.items())
    if site is None:
        site = Site(slug=slug)
    if changed:
        for k, v in data.items():
            setattr(site, k, v)
        site.save()
    existing = dict(site.closures.values_list("date", "reason"))
    for day, reason in sorted(closures.items()):  # additive: closures added in the admin stay
        if existing.get(day) != reason:
            Closure.objects.update_or_create(site=site, date=day, defaults={"reason": reason})
            changed = True
    if changed:
        _record(actor=actor, action="site.upserted", obj=site, changes={"data": data, "closures": len(closures)})
    return site, changed


@_catalogue_write
def document_types_upsert(*, actor, items: list[dict]) -> int:
    require_mall_admin(actor)
    existing = {d.code: d for d in DocumentType.objects.all()}
    changed = 0
    for item in items:
        current = existing.get(item["code"])
        if current is None:
            DocumentType.objects.create(**item)
            changed += 1
        elif (current.name, current.description) != (item["name"], item.get("description", "")):
            current.name, current.description = item["name"], item.get("description", "")
            current.save(update_fields=["name", "description"])
            changed += 1
    if changed:
        _record(actor=actor, action="document_types.upserted", object_type="catalog.documenttype",
                     object_id="*", changes={"changed": changed})
    return changed


@_catalogue_write
def agency_upsert(*, actor, site: Site, slug: str, data: dict, counters: list[dict]) -> tuple[Agency, bool]:
    require_mall_admin(actor)
    agency = Agency.objects.filter(site=site, slug=slug).first()
    changed = agency is None or any(getattr(agency, k) != v for k, v in data.items())
    renamed = agency is not None and (agency.name, agency.short_name) != (data.get("name"), data.get("short_name"))
    if agency is None:
        agency = Agency(site=site, slug=slug)
    if changed:
        for k, v in data.items():
            setattr(agency, k, v)
        agency.save()
    if renamed:
        _reindex_agency(agency)
    have = {c.code: c for c in agency.counters.all()}
    for c in counters:
        current = have.pop(c["code"], None)
        if current is None:
            taken = Counter.objects.filter(site=site, code=c["code"]).exclude(agency=agency).first()
            if taken:
                raise Conflict(_("Kode loket %(c)s sudah dipakai %(a)s.") % {"c": c["code"], "a": taken.agency}, code="duplicate_counter")
            Counter.objects.create(agency=agency, site=site, code=c["code"], name=c["name"])
            changed = True
        elif current.name != c["name"] or not current.is_active:
            current.name, current.is_active = c["name"], True
            current.save(update_fields=["name", "is_active"])
            changed = True
    # counters that are not in the profile (opened in the admin) are left as they are
    if changed:
        _record(actor=actor, action="agency.upserted", obj=agency, changes={"data": data, "counters": len(counters)})
    return agency, changed


@_catalogue_write
def service_sync_published(*, actor, agency: Agency, slug: str, kind: str, content: dict) -> tuple[Service, bool]:
    """Make the published standard of `agency`/`slug` equal `content`: nothing happens when it
    already is; otherwise a new version is published (older versions stay readable)."""
    require_manage_agency(actor, agency.pk)
    _check_kind(kind)
    cleaned = _full(clean_content(content, publishing=True, **_scope(agency)))
    digest = content_digest(kind, cleaned)
    service = Service.objects.select_for_update().filter(agency=agency, slug=slug).first()
    if (service is not None and service.is_active and service.current_version
            and service.current_version.content_digest == digest):
        return service, False
    if service is None:
        service = Service.objects.create(agency=agency, slug=slug, kind=kind, name=cleaned["name"])
        _record(actor=actor, action="service.created", obj=service, changes={"slug": slug, "kind": kind})
    else:
        service.kind, service.is_active = kind, True
        service.save(update_fields=["kind", "is_active"])
    service.versions.filter(status=VersionStatus.DRAFT).delete()  # the profile is the source of truth
    number = (service.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = ServiceVersion(service=service, number=number, created_by=_user(actor))
    _write_version(version, cleaned)
    _publish(actor, service, version, cleaned)
    return service, True



@_catalogue_write
def service_retire(*, actor, service: Service) -> Service:
    """Take a service out of the catalogue; its versions stay readable for old applications."""
    require_manage_agency(actor, service.agency_id)
    if service.is_active:
        service.is_active = False
        service.save(update_fields=["is_active"])
        _record(actor=actor, action="service.retired", obj=service, changes={})
    return service


def _full_clean(obj) -> None:
    """Model validation (unique codes, field limits) as a domain error the caller can show."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        details = {field: " ".join(messages) for field, messages in exc.message_dict.items()}
        raise InvalidInput(_("Data tidak valid."), code="invalid_input", details=details) from None


@_catalogue_write
def agency_save(*, actor, agency: Agency, fields: list[str]) -> Agency:
    """Create or change an agency (admin form). Mall administrator only."""
    require_mall_admin(actor)
    creating = agency.pk is None
    if not creating and {"slug", "site"} & set(fields):
        # workflows, profiles and links name an agency by its slug within its site
        raise Conflict(_("Slug dan mal sebuah instansi tidak bisa diubah setelah dibuat."), code="agency_identity_fixed")
    _full_clean(agency)
    agency.save()
    if not creating and {"name", "short_name"} & set(fields):
        _reindex_agency(agency)
    _record(actor=actor, action="agency.created" if creating else "agency.changed", obj=agency,
                 changes={f: str(getattr(agency, f)) for f in fields if hasattr(agency, f)})
    return agency


@_catalogue_write
def counter_save(*, actor, counter: Counter) -> Counter:
    """Open or change a counter (loket) of an agency."""
    require_manage_agency(actor, counter.agency_id)
    creating = counter.pk is None
    counter.site_id = counter.agency.site_id
    _full_clean(counter)
    counter.save()
    _record(actor=actor, action="counter.created" if creating else "counter.changed", obj=counter,
                 changes={"code": counter.code, "name": counter.name, "is_active": counter.is_active,
                          "agency": counter.agency_id})
    return counter


@_catalogue_write
def closure_save(*, actor, closure: Closure) -> Closure:
    """Add or change a local closure day of the site (affects every working-day count)."""
    require_mall_admin(actor)
    creating = closure.pk is None
    _full_clean(closure)
    closure.save()
    _record(actor=actor, action="closure.created" if creating else "closure.changed", obj=closure,
                 changes={"date": closure.date, "reason": closure.reason})
    return closure


@_catalogue_write
def closure_delete(*, actor, closure: Closure) -> None:
    require_mall_admin(actor)
    _record(actor=actor, action="closure.deleted", obj=closure, changes={"date": closure.date})
    closure.delete()
