"""Workflows in profile files: templates (workflows.toml), the choice a service makes, and the
expansion of the file form (optional `after`, `agencies`, time shares) into the stored form
that `catalog.workflow` validates. Format: profiles/README.md."""

from pathlib import Path

from satupintu.catalog.workflow import OWNER, STAGE_FIELDS

FILE_STAGE_KEYS = {*STAGE_FIELDS, "share"}
TEMPLATE_KEYS = {"description", "stage"}


def read_templates(path: Path, raw: dict, problems: list[str]) -> tuple[dict[str, list], dict[str, str]]:
    """(templates by name, default template by service kind) from workflows.toml."""
    templates: dict[str, list] = {}
    tables = {key: raw.get(key, {}) for key in ("workflow", "defaults")}
    for key, table in tables.items():
        if not isinstance(table, dict):
            problems.append(f"{path.name}: '{key}' harus berupa tabel")
            tables[key] = {}
    for name, body in tables["workflow"].items():
        if not isinstance(body, dict) or not isinstance(body.get("stage"), list):
            problems.append(f"{path.name}: alur '{name}' perlu [[workflow.{name}.stage]]")
            continue
        for key in set(body) - TEMPLATE_KEYS:
            problems.append(f"{path.name}: alur '{name}': kolom tidak dikenal '{key}'")
        templates[name] = body["stage"]
    defaults = {}
    for kind, name in tables["defaults"].items():
        if not isinstance(name, str) or name not in templates:
            problems.append(f"{path.name}: [defaults] {kind} memakai alur '{name}' yang tidak ada")
        else:
            defaults[kind] = name
    for key in set(raw) - {"defaults", "workflow"}:
        problems.append(f"{path.name}: tabel tidak dikenal '{key}'")
    return templates, defaults


def expand(stages, *, completion_days, where: str, problems: list[str]) -> list:
    """The stored form of file stages: `agencies` defaults to the owner, `after` to the stage
    listed before, and `share` (a stage's part of completion_days) becomes `sla_days`.
    Anything malformed is passed through for `catalog.workflow` to report."""
    if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
        return stages
    out, previous = [], None
    for stage in stages:
        s = dict(stage)
        for key in set(s) - FILE_STAGE_KEYS:
            problems.append(f"{where}: tahap '{s.get('key')}': kolom tidak dikenal '{key}'")
            s.pop(key)
        s.setdefault("agencies", [OWNER])
        s.setdefault("after", [previous] if previous else [])
        previous = s.get("key")
        out.append(s)
    shares = [s for s in out if "share" in s]
    if shares and len(shares) != len(out) or any("share" in s and "sla_days" in s for s in out):
        problems.append(f"{where}: setiap tahap memakai sla_days, atau setiap tahap memakai share (tidak campur)")
        return [{k: v for k, v in s.items() if k != "share"} for s in out]
    if shares and not all(isinstance(s.get("key"), str) for s in out):
        return [{k: v for k, v in s.items() if k != "share"} for s in out]  # reported by catalog.workflow
    if shares:
        _apportion(out, completion_days if isinstance(completion_days, int) else 0, where, problems)
    return out


def _apportion(stages: list[dict], days: int, where: str, problems: list[str]) -> None:
    """Split `days` over the stages in proportion to their shares so that the slowest chain
    sums to exactly `days` (largest remainders get the spare days)."""
    weights = {}
    for s in stages:
        share = s.pop("share")
        if isinstance(share, bool) or not isinstance(share, int) or share < 0:
            problems.append(f"{where}: tahap '{s.get('key')}': share harus bilangan bulat ≥ 0")
            share = 0
        weights[s.get("key")] = share
    chain = _heaviest_chain(stages, weights)
    total = sum(weights[k] for k in chain)
    exact = {k: (days * w / total if total else 0) for k, w in weights.items()}
    for s in stages:
        s["sla_days"] = int(exact[s.get("key")])
    spare = days - sum(int(exact[k]) for k in chain)
    for k in sorted(chain, key=lambda k: (-(exact[k] - int(exact[k])), chain.index(k)))[:max(spare, 0)]:
        next(s for s in stages if s.get("key") == k)["sla_days"] += 1


def _heaviest_chain(stages: list[dict], weights: dict) -> list:
    best: dict = {}
    for s in stages:
        after = s.get("after") if isinstance(s.get("after"), list) else []
        refs = [r for r in after if isinstance(r, str) and r in best]  # bad refs: reported by catalog.workflow
        before = max((best[r] for r in refs), key=lambda t: t[0], default=(0, []))
        best[s.get("key")] = (before[0] + weights[s.get("key")], [*before[1], s.get("key")])
    return max(best.values(), key=lambda t: t[0], default=(0, []))[1]
