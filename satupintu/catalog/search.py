"""Indonesian full-text search over the catalogue.

Text is tokenised and stemmed with Sastrawi (so "perizinan" and "izin" meet) when a service is
published and when a query arrives; the engine's own full-text index does the matching and
ranking: SQLite FTS5 (bm25) or PostgreSQL tsvector/GIN (ts_rank), never a Python loop.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection

from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

TOKEN_RE = re.compile(r"[0-9a-z]+")
MAX_QUERY_TERMS = 12
TITLE_WEIGHT, BODY_WEIGHT = 10.0, 1.0
# Words that carry no meaning in a service search ("cara mengurus izin" → "izin").
QUERY_STOPWORDS = frozenset(
    "dan atau yang di ke dari untuk dengan pada dalam bagi oleh cara bagaimana mengurus urus membuat buat "
    "mau ingin saya apa syarat persyaratan layanan pelayanan".split()
)


@lru_cache(maxsize=1)
def _stemmer():
    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=100_000)
def stem_word(word: str) -> str:
    if word.isdigit() or len(word) <= 3:
        return word
    return _stemmer().stem(word) or word


def tokens(text: str) -> list[str]:
    return TOKEN_RE.findall((text or "").lower())


def stem_text(text: str) -> str:
    """Document side: every token stemmed, original order, duplicates kept for ranking."""
    return " ".join(stem_word(t) for t in tokens(text))


def query_terms(query: str) -> list[str]:
    """Query side: stemmed, de-duplicated, stop words dropped (unless nothing else is left)."""
    words = tokens(query)[: MAX_QUERY_TERMS * 3]
    kept = [w for w in words if w not in QUERY_STOPWORDS] or words
    terms: list[str] = []
    for w in kept:
        s = stem_word(w)
        if s not in terms:
            terms.append(s)
    return terms[:MAX_QUERY_TERMS]


@dataclass
class Hit:
    service_id: int
    rank: float


MIN_PREFIX = 3  # shorter terms match whole words only ("b" must not match every b-word)


def _fts5_query(terms: list[str], op: str, column: str | None = None) -> str:
    # terms are [0-9a-z]+ only, so quoting cannot be escaped from
    expr = f" {op} ".join(f'"{t}"*' if len(t) >= MIN_PREFIX else f'"{t}"' for t in terms)
    return f"{{{column}}} : ({expr})" if column else expr


def _pg_query(terms: list[str], op: str, weight: str = "") -> str:
    return f" {op} ".join(f"{t}:*{weight}" if len(t) >= MIN_PREFIX else (f"{t}:{weight}" if weight else t) for t in terms)


def search_ids(
    terms: list[str], *, agency_id: int | None, kind: str | None, limit: int, offset: int, match_all: bool = True
) -> tuple[list[Hit], int]:
    """Ranked ids of published, active services matching the stemmed terms, and the total count.

    Ranking: services whose *name* holds every term come first; within that, the engine's own
    relevance (bm25 on SQLite, ts_rank on PostgreSQL, name weighted above the rest).
    """
    if not terms:
        return [], 0
    where, params = ["s.is_active", "s.current_version_id IS NOT NULL"], []
    if agency_id is not None:
        where.append("s.agency_id = %s")
        params.append(agency_id)
    if kind:
        where.append("s.kind = %s")
        params.append(kind)
    op = "AND" if match_all else "OR"
    if connection.vendor == "postgresql":
        sql = (
            "SELECT s.id, (s.search_vector @@ t)::int + ts_rank(s.search_vector, q) AS rank, count(*) OVER () "
            "FROM catalog_service s, to_tsquery('simple'::regconfig, %s) q, to_tsquery('simple'::regconfig, %s) t "
            f"WHERE s.search_vector @@ q AND {' AND '.join(where)} "
            "ORDER BY rank DESC, s.name, s.id LIMIT %s OFFSET %s"
        )
        tsq = _pg_query(terms, "&" if match_all else "|")
        all_params = [tsq, _pg_query(terms, "&", weight="A"), *params, limit, offset]
    elif connection.vendor == "sqlite":
        # bm25() may not share a SELECT with a window function: rank in materialised CTEs first
        sql = (
            "WITH m AS MATERIALIZED ("
            f"SELECT rowid AS id, bm25(catalog_service_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS rank "
            "FROM catalog_service_fts WHERE catalog_service_fts MATCH %s), "
            "t AS MATERIALIZED (SELECT rowid AS id FROM catalog_service_fts WHERE catalog_service_fts MATCH %s) "
            "SELECT s.id, m.rank - (t.id IS NOT NULL) AS rank, count(*) OVER () "
            "FROM m JOIN catalog_service s ON s.id = m.id LEFT JOIN t ON t.id = m.id "
            f"WHERE {' AND '.join(where)} ORDER BY rank, s.name, s.id LIMIT %s OFFSET %s"
        )
        all_params = [_fts5_query(terms, op), _fts5_query(terms, "AND", column="search_title"), *params, limit, offset]
    else:  # pragma: no cover - only the two supported engines
        raise NotImplementedError(connection.vendor)
    with connection.cursor() as cur:
        cur.execute(sql, all_params)
        rows = cur.fetchall()
    if not rows:
        if offset:  # past the end: the total still tells the caller how far it goes
            return [], _count(terms, agency_id, kind, match_all)
        return [], 0
    return [Hit(r[0], float(r[1])) for r in rows], rows[0][2]


def _count(terms, agency_id, kind, match_all) -> int:
    hits, total = search_ids(terms, agency_id=agency_id, kind=kind, limit=1, offset=0, match_all=match_all)
    return total


# --- schema: created by migration 0002, per engine -------------------------------------------

SQLITE_SCHEMA = [
    "CREATE VIRTUAL TABLE catalog_service_fts USING fts5("
    "search_title, search_body, content='catalog_service', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER catalog_service_fts_ai AFTER INSERT ON catalog_service BEGIN "
    "INSERT INTO catalog_service_fts(rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body); END",
    "CREATE TRIGGER catalog_service_fts_ad AFTER DELETE ON catalog_service BEGIN "
    "INSERT INTO catalog_service_fts(catalog_service_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); END",
    "CREATE TRIGGER catalog_service_fts_au AFTER UPDATE OF search_title, search_body ON catalog_service BEGIN "
    "INSERT INTO catalog_service_fts(catalog_service_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    "INSERT INTO catalog_service_fts(rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS catalog_service_fts_au",
    "DROP TRIGGER IF EXISTS catalog_service_fts_ad",
    "DROP TRIGGER IF EXISTS catalog_service_fts_ai",
    "DROP TABLE IF EXISTS catalog_service_fts",
]
# A stored tsvector (name as weight A, the rest as B) that the database keeps current itself.
PG_SCHEMA = [
    "ALTER TABLE catalog_service ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'B')) STORED",
    "CREATE INDEX catalog_service_fts_gin ON catalog_service USING gin (search_vector)",
]
PG_DROP = ["DROP INDEX IF EXISTS catalog_service_fts_gin", "ALTER TABLE catalog_service DROP COLUMN IF EXISTS search_vector"]


def create_schema(apps, schema_editor):
    statements = {"sqlite": SQLITE_SCHEMA, "postgresql": PG_SCHEMA}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def drop_schema(apps, schema_editor):
    statements = {"sqlite": SQLITE_DROP, "postgresql": PG_DROP}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)
