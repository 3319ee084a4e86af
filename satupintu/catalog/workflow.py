"""The process of a service (*alur*): its stages (*tahapan*) in execution order, each owned by
an agency and a role, with its own SLA in working days. Validation shared by the API, the
admin and the profile loader; the `cases` app runs workflows of exactly this shape.

A stored stage is exactly
    {"key", "kind", "name", "agencies", "role", "sla_days", "after"}
where `after` lists the keys of stages that must be finished first (always explicit).
"""

import re

from django.utils.translation import gettext as _

from satupintu.core.errors import InvalidInput

STAGE_KINDS = (
    "completeness_check",  # pemeriksaan kelengkapan berkas: the SLA clock starts when the file is complete
    "data_entry",          # entri data oleh back office
    "technical_review",    # kajian/verifikasi teknis
    "field_inspection",    # tinjau lapangan, ends in a Berita Acara Pemeriksaan (BAP) upload
    "technical_team",      # tim teknis: several agencies review in parallel
    "approval",            # persetujuan dan tanda tangan
    "handover",            # penyerahan dokumen
)
# identity.Role values that work on applications (not citizen, agency_admin or mall_admin)
STAGE_ROLES = ("front_office", "verifier", "technical_reviewer", "head")
STAGE_FIELDS = ("key", "kind", "name", "agencies", "role", "sla_days", "after")
OWNER = "{owner}"  # placeholder for the service's own agency
MAX_STAGES = 30
MAX_SLA_DAYS = 60
KEY_RE = re.compile(r"[a-z0-9_-]{1,40}")  # whole key: fullmatch (a `$` would let "a\n" through)


def clean_workflow(stages, *, agency_slugs: set[str], owner_slug: str, completion_days: int | None) -> list[dict]:
    """Return the stored form of `stages`, or raise InvalidInput whose details["workflow"]
    lists every problem. `completion_days` None skips the SLA-path check."""
    cleaned, problems = workflow_problems(stages, agency_slugs=agency_slugs, owner_slug=owner_slug,
                                          completion_days=completion_days)
    if problems:
        raise InvalidInput(_("Alur layanan tidak valid."), code="invalid_workflow", details={"workflow": problems})
    return cleaned


def workflow_problems(stages, *, agency_slugs, owner_slug: str, completion_days: int | None) -> tuple[list[dict], list[str]]:
    """Like `clean_workflow`, but returns (cleaned, problems) so a caller can prefix each
    problem with where it came from (the profile loader names the file and service)."""
    if not isinstance(stages, list):
        return [], [_("Alur harus berupa daftar tahap.")]
    if not stages:
        return [], [_("Alur wajib memiliki minimal satu tahap.")]
    if len(stages) > MAX_STAGES:
        return [], [_("Alur paling banyak %(n)d tahap.") % {"n": MAX_STAGES}]
    problems: list[str] = []
    cleaned: list[dict] = []
    agency_slugs = set(agency_slugs)
    for i, stage in enumerate(stages, start=1):
        out, stage_problems = _clean_stage(i, stage, agency_slugs, owner_slug)
        problems += stage_problems
        if out is not None:
            cleaned.append(out)
    if problems:
        return cleaned, problems
    problems += _check_graph(cleaned, completion_days)
    return cleaned, problems


def _label(i: int, stage) -> str:
    key = stage.get("key") if isinstance(stage, dict) else None
    return _("tahap %(i)d '%(k)s'") % {"i": i, "k": key} if isinstance(key, str) and key else _("tahap %(i)d") % {"i": i}


def _clean_stage(i: int, stage, agency_slugs: set[str], owner_slug: str) -> tuple[dict | None, list[str]]:
    where = _label(i, stage)
    if not isinstance(stage, dict):
        return None, [_("%(w)s: harus berupa objek.") % {"w": where}]
    problems = []
    unknown = sorted(set(stage) - set(STAGE_FIELDS))
    if unknown:
        problems.append(_("%(w)s: kolom tidak dikenal: %(f)s.") % {"w": where, "f": ", ".join(unknown)})
    missing = [f for f in STAGE_FIELDS if f not in stage]
    if missing:
        problems.append(_("%(w)s: kolom wajib tidak ada: %(f)s.") % {"w": where, "f": ", ".join(missing)})
        return None, problems
    key, kind, name, agencies, role, sla, after = (stage[f] for f in STAGE_FIELDS)
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        problems.append(_("%(w)s: key hanya boleh huruf kecil, angka, '_' dan '-' (maks. 40).") % {"w": where})
    if kind not in STAGE_KINDS:
        problems.append(_("%(w)s: jenis tahap '%(v)s' tidak dikenal; pilih salah satu dari: %(a)s.")
                        % {"w": where, "v": kind, "a": ", ".join(STAGE_KINDS)})
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        problems.append(_("%(w)s: nama tahap wajib diisi (maks. 200 karakter).") % {"w": where})
    if role not in STAGE_ROLES:
        problems.append(_("%(w)s: peran '%(v)s' tidak dikenal; pilih salah satu dari: %(a)s.")
                        % {"w": where, "v": role, "a": ", ".join(STAGE_ROLES)})
    if isinstance(sla, bool) or not isinstance(sla, int) or not 0 <= sla <= MAX_SLA_DAYS:
        problems.append(_("%(w)s: SLA harus bilangan bulat 0 sampai %(n)d hari kerja.") % {"w": where, "n": MAX_SLA_DAYS})
    resolved: list[str] = []
    if not isinstance(agencies, list) or not all(isinstance(a, str) for a in agencies):
        problems.append(_("%(w)s: agencies harus berupa daftar slug instansi.") % {"w": where})
    else:
        resolved = [owner_slug if a == OWNER else a for a in agencies]
        for slug in resolved:
            if slug not in agency_slugs:
                problems.append(_("%(w)s: instansi '%(a)s' tidak dikenal di mal ini.") % {"w": where, "a": slug})
        if len(set(resolved)) != len(resolved):
            problems.append(_("%(w)s: instansi tercantum lebih dari sekali.") % {"w": where})
        if kind == "technical_team" and len(set(resolved)) < 2:
            problems.append(_("%(w)s: tim teknis memerlukan paling sedikit dua instansi yang berbeda.") % {"w": where})
        elif kind in STAGE_KINDS and kind != "technical_team" and len(resolved) != 1:
            problems.append(_("%(w)s: tahap jenis ini dimiliki tepat satu instansi.") % {"w": where})
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        problems.append(_("%(w)s: after harus berupa daftar key tahap.") % {"w": where})
    elif len(set(after)) != len(after):
        problems.append(_("%(w)s: after menyebut tahap yang sama lebih dari sekali.") % {"w": where})
    if problems:
        return None, problems
    return {"key": key, "kind": kind, "name": name.strip(), "agencies": resolved, "role": role, "sla_days": sla,
            "after": list(after)}, []


def _check_graph(stages: list[dict], completion_days: int | None) -> list[str]:
    problems = []
    position = {}
    for i, s in enumerate(stages):
        if s["key"] in position:
            problems.append(_("Key tahap '%(k)s' dipakai lebih dari sekali.") % {"k": s["key"]})
        position.setdefault(s["key"], i)
    for s in stages:
        for ref in s["after"]:
            if ref not in position:
                problems.append(_("Tahap '%(k)s' menunggu tahap '%(r)s' yang tidak ada.") % {"k": s["key"], "r": ref})
    if problems:
        return problems
    cycle = _find_cycle(stages)
    if cycle:
        return [_("Alur berputar (siklus): %(c)s.") % {"c": " → ".join(cycle)}]
    for i, s in enumerate(stages):
        for ref in s["after"]:
            if position[ref] > i:
                problems.append(_("Tahap '%(k)s' menunggu '%(r)s' yang tercantum sesudahnya; urutkan tahap sesuai urutan "
                                  "pelaksanaan.") % {"k": s["key"], "r": ref})
    out_of_order = bool(problems)
    first = stages[0]
    if first["kind"] != "completeness_check" or first["after"]:
        problems.append(_("Tahap pertama harus pemeriksaan kelengkapan berkas (completeness_check) tanpa after: jangka "
                          "waktu dihitung sejak berkas dinyatakan lengkap."))
    for s in stages[1:]:  # a stage without `after` would start at filing, before the file is checked
        if not s["after"]:
            problems.append(_("Tahap '%(k)s' harus menunggu tahap sebelumnya (after): hanya pemeriksaan kelengkapan yang "
                              "dimulai saat berkas masuk.") % {"k": s["key"]})
    if out_of_order or completion_days is None:
        return problems
    days, path = longest_path(stages)
    if days > completion_days:
        problems.append(_("Jumlah SLA jalur terpanjang (%(p)s) %(d)d hari kerja melebihi jangka waktu penyelesaian "
                          "%(n)d hari kerja.") % {"p": " → ".join(path), "d": days, "n": completion_days})
    return problems


def _find_cycle(stages: list[dict]) -> list[str] | None:
    """The first cycle found, as keys with the start repeated at the end, or None."""
    after = {s["key"]: s["after"] for s in stages}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(key, path):
        state[key] = 1
        path.append(key)
        for ref in after[key]:
            if state.get(ref) == 1:
                return path[path.index(ref):] + [ref]
            if ref not in state:
                found = visit(ref, path)
                if found:
                    return found
        path.pop()
        state[key] = 2
        return None

    for s in stages:
        if s["key"] not in state:
            found = visit(s["key"], [])
            if found:
                return list(reversed(found))  # in execution order: a → b → a
    return None


def longest_path(stages: list[dict]) -> tuple[int, list[str]]:
    """The SLA days of the slowest chain of stages and its keys (stages in execution order)."""
    best: dict[str, tuple[int, list[str]]] = {}
    for s in stages:
        before = max((best[r] for r in s["after"]), key=lambda t: t[0], default=(0, []))
        best[s["key"]] = (before[0] + s["sla_days"], [*before[1], s["key"]])
    return max(best.values(), key=lambda t: t[0], default=(0, []))
