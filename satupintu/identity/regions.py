"""Kemendagri region codes (the ones a NIK begins with), vendored from idn-area-data 4.0.1.

The CSVs are static reference data, identical in every process, so they are read once per
process. BPS codes are a different system and never appear here.
"""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data" / "idn-area"


@dataclass(frozen=True)
class Region:
    code: str  # dotted: "14", "14.71", "14.71.01"
    name: str
    parent: str | None

    @property
    def level(self) -> str:
        return {1: "province", 2: "regency", 3: "district"}[self.code.count(".") + 1]


@lru_cache(maxsize=1)
def _table() -> dict[str, Region]:
    table: dict[str, Region] = {}
    for filename, parent_col in (("provinces.csv", None), ("regencies.csv", "province_code"), ("districts.csv", "regency_code")):
        with open(DATA_DIR / filename, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                table[row["code"]] = Region(row["code"], row["name"], row[parent_col] if parent_col else None)
    return table


def normalise(code: str) -> str:
    """'147101' or '14.71.01' → '14.71.01'; raises ValueError on anything else."""
    digits = code.replace(".", "").strip()
    if not digits.isdigit() or len(digits) not in (2, 4, 6):
        raise ValueError(code)
    return ".".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def get(code: str) -> Region | None:
    try:
        return _table().get(normalise(code))
    except ValueError:
        return None


def lineage(code: str) -> list[Region]:
    """Province → regency → district for a code that exists; [] otherwise."""
    region = get(code)
    chain: list[Region] = []
    while region is not None:
        chain.insert(0, region)
        region = _table().get(region.parent) if region.parent else None
    return chain


def describe(code: str) -> str:
    """'Kota Pekanbaru, Riau' — most specific first."""
    return ", ".join(r.name for r in reversed(lineage(code))) or code


def regencies() -> list[Region]:
    return [r for r in _table().values() if r.level == "regency"]
