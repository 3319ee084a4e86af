"""Read, validate and load a profile folder (format: profiles/README.md).

Everything is read and checked before anything is written; the load then runs in one
transaction, so a bad file leaves the database as it was. Loading twice changes nothing.
"""

import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from django.db import transaction

from satupintu.catalog import services as catalog_services
from satupintu.catalog.content import clean_content
from satupintu.catalog.models import AgencyKind, Service, ServiceKind
from satupintu.core.errors import DomainError
from satupintu.identity import services as identity_services
from satupintu.identity.models import Role, User
from satupintu.queueing import services as queue_services

from . import workflows

PROFILES_DIR = Path(__file__).resolve().parent
SITE_FIELDS = {"name", "address", "timezone", "region_code", "opened_on", "phone", "email", "opening_hours"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AGENCY_FIELDS = ("name", "short_name", "kind", "description", "phone", "email", "website")
DEFAULT_FIELDS = (
    "complaint_channels", "facilities", "competence", "internal_supervision", "staff", "service_guarantee",
    "security_guarantee", "performance_evaluation", "legal_basis", "region_prefixes",
)
SERVICE_KEYS = {
    "slug", "name", "kind", "applicant_types", "description", "requirements", "procedure", "completion_days", "fee", "fee_variable",
    "fee_basis", "product", "legal_basis", "min_age", "region_prefixes", "complaint_channels", "facilities",
    "competence", "internal_supervision", "staff", "service_guarantee", "security_guarantee", "performance_evaluation",
    "workflow", "deemed_approval",
}


class ProfileError(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class AgencySpec:
    slug: str
    position: int
    data: dict
    counters: list[dict]
    services: list[dict]  # {"slug", "kind", "content"}
    filename: str = ""


@dataclass
class Profile:
    name: str
    site_slug: str
    site: dict
    closures: dict
    document_types: list[dict]
    agencies: list[AgencySpec]
    expect: dict
    demo_accounts: list[dict] = field(default_factory=list)
    queue_groups: list[dict] = field(default_factory=list)


def available() -> list[str]:
    return sorted(p.name for p in PROFILES_DIR.iterdir() if (p / "profile.toml").is_file())


def _load(path: Path, problems: list[str]) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path.name}: TOML tidak valid: {exc}")
        return {}


def read(name: str) -> Profile:
    folder = PROFILES_DIR / name
    if name not in available():
        raise ProfileError([f"Profil '{name}' tidak ada. Tersedia: {', '.join(available()) or '-'}"])
    problems: list[str] = []
    top = _load(folder / "profile.toml", problems)
    site = dict(top.get("site", {}))
    site_slug = site.pop("slug", name)
    closures = {c["date"]: c["reason"] for c in site.pop("closures", [])}
    hours = site.pop("opening_hours", {})
    for day, span in hours.items():
        if day not in WEEKDAYS or not (isinstance(span, list) and len(span) == 2):
            problems.append(f"profile.toml: jam layanan '{day}' tidak valid")
            continue
        try:
            if time.fromisoformat(span[0]) >= time.fromisoformat(span[1]):
                problems.append(f"profile.toml: jam buka {day} harus sebelum jam tutup")
        except (TypeError, ValueError):
            problems.append(f"profile.toml: jam layanan '{day}' harus HH:MM")
    site["opening_hours"] = hours
    for key in set(site) - SITE_FIELDS:
        problems.append(f"profile.toml: [site] kolom tidak dikenal '{key}'")
    if any(not isinstance(d, date) for d in closures):
        problems.append("profile.toml: tanggal penutupan harus berformat YYYY-MM-DD")

    doc_types: dict[str, dict] = {}
    for path in sorted(folder.glob("document_types*.toml")):
        for item in _load(path, problems).get("document_type", []):
            code = item.get("code", "")
            if code in doc_types:
                problems.append(f"{path.name}: jenis dokumen '{code}' sudah didefinisikan di berkas lain")
            elif not code or not item.get("name"):
                problems.append(f"{path.name}: jenis dokumen tanpa code/name")
            else:
                doc_types[code] = {"code": code, "name": item["name"], "description": item.get("description", "")}

    wf_path = folder / "workflows.toml"
    raw_wf = _load(wf_path, problems) if wf_path.exists() else {}
    templates, kind_defaults = workflows.read_templates(wf_path, raw_wf, problems)

    agencies: list[AgencySpec] = []
    counter_codes: dict[str, str] = {}
    for position, path in enumerate(sorted((folder / "agencies").glob("*.toml"))):
        raw = _load(path, problems)
        spec = _agency(path.name, position, raw, doc_types, counter_codes, problems, templates, kind_defaults)
        if spec:
            agencies.append(spec)
    slugs = [a.slug for a in agencies]
    for s in {s for s in slugs if slugs.count(s) > 1}:
        problems.append(f"slug instansi '{s}' dipakai lebih dari sekali")
    _check_services(agencies, set(slugs), problems)

    expect = top.get("expect", {})
    n_services = sum(len(a.services) for a in agencies)
    if "agencies" in expect and expect["agencies"] != len(agencies):
        problems.append(f"profile.toml mengharapkan {expect['agencies']} instansi, berkas berisi {len(agencies)}")
    if "services" in expect and expect["services"] != n_services:
        problems.append(f"profile.toml mengharapkan {expect['services']} layanan, berkas berisi {n_services}")
    demo = _load(folder / "demo_accounts.toml", problems).get("account", []) if (folder / "demo_accounts.toml").exists() else []
    queues = _queues(folder, agencies, problems)
    if problems:
        raise ProfileError(problems)
    return Profile(name, site_slug, site, closures, list(doc_types.values()), agencies, expect, demo, queues)


def _queues(folder: Path, agencies: list[AgencySpec], problems: list[str]) -> list[dict]:
    path = folder / "queues.toml"
    if not path.exists():
        return []
    by_slug = {a.slug: a for a in agencies}
    groups, prefixes = [], set()
    for g in _load(path, problems).get("queue_group", []):
        agency, prefix = by_slug.get(g.get("agency")), str(g.get("prefix", "")).upper()
        if agency is None:
            problems.append(f"queues.toml: instansi '{g.get('agency')}' tidak ada")
            continue
        if not (prefix.isalpha() and prefix.isascii() and len(prefix) <= 2) or prefix in prefixes:
            problems.append(f"queues.toml: awalan '{prefix}' tidak valid atau ganda")
        prefixes.add(prefix)
        wanted = g.get("services", "*")
        slugs = [s["slug"] for s in agency.services] if wanted == "*" else list(wanted)
        unknown = set(slugs) - {s["slug"] for s in agency.services}
        if unknown:
            problems.append(f"queues.toml: layanan tidak dikenal di {agency.slug}: {', '.join(sorted(unknown))}")
        groups.append({"agency": agency.slug, "prefix": prefix, "name": g.get("name", prefix), "services": slugs})
    return groups


def _check_services(agencies: list[AgencySpec], agency_slugs: set[str], problems: list[str]) -> None:
    """Each service's content, its workflow included: a workflow may name any agency of the
    profile, so this runs once every agency file has been read."""
    for spec in agencies:
        for s in spec.services:
            where = f"{spec.filename} layanan '{s['slug']}'"
            content = {k: v for k, v in s["content"].items() if k != "requirements"}  # types checked in _agency
            try:
                cleaned = clean_content(content, publishing=True, owner_slug=spec.slug, agency_slugs=agency_slugs)
            except DomainError as exc:
                for f, msg in (exc.details or {}).items():
                    for m in msg if isinstance(msg, list) else [msg]:
                        problems.append(f"{where}: {f}: {m}")
            else:
                s["content"]["workflow"] = cleaned["workflow"]  # "{owner}" resolved


def _tables(value, where: str, problems: list) -> list[dict]:
    """The tables of an array of tables (`[[service]]`); anything else is a listed problem."""
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        problems.append(f"{where} harus berupa daftar tabel ([[...]])")
        return []
    return value


def _agency(filename, position, raw, doc_types, counter_codes, problems, templates, kind_defaults) -> AgencySpec | None:
    head = raw.get("agency")
    if not isinstance(head, dict) or not head.get("slug"):
        problems.append(f"{filename}: tabel [agency] dengan slug wajib ada")
        return None
    slug = head["slug"]
    if head.get("kind") not in AgencyKind.values:
        problems.append(f"{filename}: jenis instansi '{head.get('kind')}' tidak dikenal")
    data = {k: head.get(k, "") for k in AGENCY_FIELDS}
    data["position"] = position
    counters = []
    for c in _tables(head.get("counters", []), f"{filename}: counters", problems):
        code = c.get("code", "")
        if code in counter_codes:
            problems.append(f"{filename}: kode loket '{code}' sudah dipakai {counter_codes[code]}")
        counter_codes[code] = slug
        counters.append({"code": code, "name": c.get("name", code)})
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(f"{filename}: [defaults] harus berupa tabel")
        defaults = {}
    for key in set(defaults) - {*DEFAULT_FIELDS, "workflow"}:
        problems.append(f"{filename}: [defaults] kolom tidak dikenal '{key}'")
    services, seen = [], set()
    for item in _tables(raw.get("service", []), f"{filename}: service", problems):
        s_slug = item.get("slug", "")
        where = f"{filename} layanan '{s_slug}'"
        if s_slug in seen:
            problems.append(f"{where}: slug ganda")
        seen.add(s_slug)
        for key in set(item) - SERVICE_KEYS:
            problems.append(f"{where}: kolom tidak dikenal '{key}'")
        if item.get("kind") not in ServiceKind.values:
            problems.append(f"{where}: jenis layanan '{item.get('kind')}' tidak dikenal")
        content = {k: v for k, v in item.items() if k not in ("slug", "kind")}
        for key in DEFAULT_FIELDS:
            if key == "legal_basis":
                content["legal_basis"] = list(defaults.get("legal_basis", [])) + list(item.get("legal_basis", []))
            elif key not in content and key in defaults:
                content[key] = defaults[key]
        for r in content.get("requirements", []):
            if isinstance(r, dict) and r.get("type") not in doc_types:
                problems.append(f"{where}: jenis dokumen '{r.get('type')}' tidak didefinisikan")
        # the service's own stages, else the agency's template, else the template for its kind
        kind = item.get("kind")
        choice = item.get("workflow", defaults.get("workflow", kind_defaults.get(kind) if isinstance(kind, str) else None))
        if isinstance(choice, str):
            if choice not in templates:
                problems.append(f"{where}: alur '{choice}' tidak ada di workflows.toml")
            choice = templates.get(choice, [])
        content["workflow"] = workflows.expand(
            choice if choice is not None else [], completion_days=content.get("completion_days"), where=where, problems=problems
        )
        services.append({"slug": s_slug, "kind": item.get("kind"), "content": content})
    return AgencySpec(slug, position, data, counters, services, filename)


@dataclass
class LoadReport:
    agencies: int = 0
    services: int = 0
    changed_agencies: int = 0
    changed_services: int = 0
    document_types_changed: int = 0
    site_changed: bool = False
    queue_groups_changed: int = 0
    accounts_created: list[str] = field(default_factory=list)


def load(profile: Profile, *, actor, demo_accounts: bool = False, progress=lambda msg: None) -> LoadReport:
    report = LoadReport()
    with transaction.atomic():
        site, report.site_changed = catalog_services.site_upsert(
            actor=actor, slug=profile.site_slug, data=profile.site, closures=profile.closures
        )
        report.document_types_changed = catalog_services.document_types_upsert(actor=actor, items=profile.document_types)
        agencies = {}
        for spec in profile.agencies:  # every agency first: a workflow may name any of them
            agencies[spec.slug], changed = catalog_services.agency_upsert(
                actor=actor, site=site, slug=spec.slug, data=spec.data, counters=spec.counters
            )
            report.agencies += 1
            report.changed_agencies += changed
        for spec in profile.agencies:
            agency = agencies[spec.slug]
            n_changed = 0
            for s in spec.services:
                _service, changed = catalog_services.service_sync_published(
                    actor=actor, agency=agency, slug=s["slug"], kind=s["kind"], content=s["content"]
                )
                n_changed += changed
            # services that are not in the files (created in the admin or the API) are left alone;
            # retire a service with the admin or the API
            report.services += len(spec.services)
            report.changed_services += n_changed
            progress(f"  {agency.short_name:<24} {len(spec.services):>3} layanan ({n_changed} baru/berubah)")
        for g in profile.queue_groups:
            agency = site.agencies.get(slug=g["agency"])
            _group, changed = queue_services.queue_group_sync(
                actor=actor, agency=agency, prefix=g["prefix"], name=g["name"],
                services=list(Service.objects.filter(agency=agency, slug__in=g["services"])),
            )
            report.queue_groups_changed += changed
        if demo_accounts:
            report.accounts_created = _demo_accounts(profile, site, actor)
    return report


def _demo_accounts(profile: Profile, site, actor) -> list[str]:
    created = []
    for acc in profile.demo_accounts:
        login = acc.get("email") or acc.get("phone")
        exists = User.objects.filter(email__iexact=acc["email"]).exists() if acc.get("email") else User.objects.filter(phone=acc.get("phone")).exists()
        if exists:
            continue
        if acc["role"] == Role.CITIZEN:
            identity_services.citizen_register(
                actor=None, full_name=acc["full_name"], password=acc["password"], nik=acc["nik"],
                email=acc.get("email", ""), phone=acc.get("phone", ""), kk_number=acc.get("kk_number", ""),
            )
        else:
            agency = site.agencies.get(slug=acc["agency"]) if acc.get("agency") else None
            identity_services.officer_create(
                actor=actor, email=acc["email"], full_name=acc["full_name"], role=acc["role"],
                password=acc["password"], agency=agency,
            )
        created.append(login)
    return created
