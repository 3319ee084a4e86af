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


RANK_CAP = 5000  # up to this many matches are ranked by relevance; a broader query is listed
MIN_PREFIX = 3  # shorter terms match whole words only ("b" must not match every b-word)


@dataclass
class Result:
    ids: list[int]
    total: int  # exact, or RANK_CAP + 1 when `capped`
    capped: bool  # more than RANK_CAP services match: the count is a lower bound


def _fts5_query(terms: list[str], op: str, column: str | None = None) -> str:
    # terms are [0-9a-z]+ only, so quoting cannot be escaped from
    expr = f" {op} ".join(f'"{t}"*' if len(t) >= MIN_PREFIX else f'"{t}"' for t in terms)
    return f"{{{column}}} : ({expr})" if column else expr


def _pg_query(terms: list[str], op: str, weight: str = "") -> str:
    return f" {op} ".join(f"{t}:*{weight}" if len(t) >= MIN_PREFIX else (f"{t}:{weight}" if weight else t) for t in terms)


class _Engine:
    """The SQL for one database engine. `query`/`title` are the engine's match expressions for
    the words anywhere and for every word in the name."""

    def __init__(self, terms: list[str], match_all: bool, filters: list[str], params: list):
        self.terms, self.match_all, self.filters, self.params = terms, match_all, filters, params

    def _run(self, sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def _where(self, extra: list[str]) -> str:
        return " AND ".join(extra + self.filters)

    @staticmethod
    def order(title: bool) -> str:
        # Names holding every word: alphabetical, sorted from the index lookup (`|| ''` keeps the
        # planner from walking the name index, which is slow when the matching names cluster).
        # The rest: catalogue order, which a primary-key walk serves without sorting.
        return "ORDER BY s.name || '', s.id" if title else "ORDER BY s.id"


class _Postgres(_Engine):
    def __init__(self, *args):
        super().__init__(*args)
        self.q = _pg_query(self.terms, "&" if self.match_all else "|")
        self.t = _pg_query(self.terms, "&")
        self.match = "s.search_vector @@ to_tsquery('simple'::regconfig, %s)"
        self.title_match = "s.title_vector @@ to_tsquery('simple'::regconfig, %s)"

    def count(self, cap: int) -> int:
        sql = f"SELECT count(*) FROM (SELECT 1 FROM catalog_service s WHERE {self._where([self.match])} LIMIT %s) x"
        return self._run(sql, [self.q, *self.params, cap])[0][0]

    def ranked(self, limit: int, offset: int) -> list[int]:
        sql = (
            "SELECT s.id FROM catalog_service s, to_tsquery('simple'::regconfig, %s) q, "
            "to_tsquery('simple'::regconfig, %s) t "
            f"WHERE {self._where(['s.search_vector @@ q'])} "
            "ORDER BY (s.title_vector @@ t)::int + ts_rank(s.search_vector, q) DESC, s.name, s.id LIMIT %s OFFSET %s"
        )
        return [r[0] for r in self._run(sql, [self.q, self.t, *self.params, limit, offset])]

    def listed(self, limit: int, offset: int, title: bool) -> list[int]:
        if title:
            sql = f"SELECT s.id FROM catalog_service s WHERE {self._where([self.title_match])} "
            p = [self.t]
        else:
            sql = f"SELECT s.id FROM catalog_service s WHERE {self._where([self.match, f'NOT {self.title_match}'])} "
            p = [self.q, self.t]
        return [r[0] for r in self._run(sql + self.order(title) + " LIMIT %s OFFSET %s", [*p, *self.params, limit, offset])]


class _Sqlite(_Engine):
    def __init__(self, *args):
        super().__init__(*args)
        self.q = _fts5_query(self.terms, "AND" if self.match_all else "OR")
        self.t = _fts5_query(self.terms, "AND", column="search_title")

    def count(self, cap: int) -> int:
        sql = (
            "SELECT count(*) FROM (SELECT 1 FROM catalog_service_fts f JOIN catalog_service s ON s.id = f.rowid "
            f"WHERE {self._where(['catalog_service_fts MATCH %s'])} LIMIT %s)"
        )
        return self._run(sql, [self.q, *self.params, cap])[0][0]

    def ranked(self, limit: int, offset: int) -> list[int]:
        # bm25() must run in the FTS query itself: rank in materialised CTEs, then join
        sql = (
            "WITH m AS MATERIALIZED ("
            f"SELECT rowid AS id, bm25(catalog_service_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS rank "
            "FROM catalog_service_fts WHERE catalog_service_fts MATCH %s), "
            "t AS MATERIALIZED (SELECT rowid AS id FROM catalog_service_fts WHERE catalog_service_fts MATCH %s) "
            # `IN (SELECT …)` makes SQLite index the name matches; a LEFT JOIN was planned as a
            # nested scan (quadratic) once LIMIT became a bound parameter
            "SELECT s.id FROM m JOIN catalog_service s ON s.id = m.id "
            f"WHERE {self._where([])} ORDER BY m.rank - (m.id IN (SELECT id FROM t)), s.name, s.id "
            f"LIMIT {int(limit)} OFFSET {int(offset)}"
        )
        return [r[0] for r in self._run(sql, [self.q, self.t, *self.params])]

    def listed(self, limit: int, offset: int, title: bool) -> list[int]:
        fts = "SELECT rowid FROM catalog_service_fts WHERE catalog_service_fts MATCH %s"
        if title:
            sql = f"SELECT s.id FROM catalog_service s JOIN ({fts}) t ON t.rowid = s.id WHERE {self._where([])} "
            p = [self.t]
        else:
            sql = f"SELECT s.id FROM catalog_service s WHERE {self._where([f's.id IN ({fts})', f's.id NOT IN ({fts})'])} "
            p = [self.q, self.t]
        return [r[0] for r in self._run(sql + self.order(title) + " LIMIT %s OFFSET %s", [*p, *self.params, limit, offset])]


def search_ids(terms: list[str], *, agency_id: int | None, kind: str | None, limit: int, offset: int,
               match_all: bool = True) -> Result:
    """Published, active services matching the stemmed terms, best first.

    Up to RANK_CAP matches are ranked: services whose *name* holds every word first, then by
    the engine's relevance (bm25 / ts_rank, name weighted above the rest). A broader query
    (a word found in most services, like "ktp") lists the services whose name holds every word
    first, alphabetically, then the rest in catalogue order, without ranking every match.
    """
    if not terms:
        return Result([], 0, False)
    filters = ["s.is_active", "s.current_version_id IS NOT NULL",
               "s.agency_id IN (SELECT a.id FROM catalog_agency a WHERE a.is_active)"]
    params = []
    if agency_id is not None:
        filters.append("s.agency_id = %s")
        params.append(agency_id)
    if kind:
        filters.append("s.kind = %s")
        params.append(kind)
    engine_class = {"postgresql": _Postgres, "sqlite": _Sqlite}.get(connection.vendor)
    if engine_class is None:  # pragma: no cover - only the two supported engines
        raise NotImplementedError(connection.vendor)
    engine = engine_class(terms, match_all, filters, params)
    total = engine.count(cap=RANK_CAP + 1)
    if total <= RANK_CAP:
        ids = engine.ranked(limit, offset) if total and offset < total else []
        return Result(ids, total, False)
    end = min(offset + limit, RANK_CAP)
    titled = engine.listed(end, 0, title=True)  # at most `end` ids: the page and what precedes it
    ids = titled[offset:end]
    if len(ids) < end - offset:
        ids += engine.listed(end - offset - len(ids), max(0, offset - len(titled)), title=False)
    return Result(ids, total, True)


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


# The name alone, for "every word in the name" (weight-restricted matches cannot use the index well).
PG_TITLE_SCHEMA = [
    "ALTER TABLE catalog_service ADD COLUMN title_vector tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple'::regconfig, search_title)) STORED",
    "CREATE INDEX catalog_service_title_gin ON catalog_service USING gin (title_vector)",
]
PG_TITLE_DROP = ["DROP INDEX IF EXISTS catalog_service_title_gin", "ALTER TABLE catalog_service DROP COLUMN IF EXISTS title_vector"]


def create_title_schema(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_TITLE_SCHEMA:
            schema_editor.execute(sql)


def drop_title_schema(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_TITLE_DROP:
            schema_editor.execute(sql)


def create_schema(apps, schema_editor):
    statements = {"sqlite": SQLITE_SCHEMA, "postgresql": PG_SCHEMA}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def drop_schema(apps, schema_editor):
    statements = {"sqlite": SQLITE_DROP, "postgresql": PG_DROP}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)
