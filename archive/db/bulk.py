"""Batch reads and writes for the ingest path: few statements per batch, whatever its size.

Reads take lists of keys (split into chunks that stay under SQLite's bound-parameter limit);
inverted-index postings are read newest first with a cap per key, so their cost does not grow
with the archive. Writes are multi-row: COPY on PostgreSQL, `executemany` on SQLite, and inserts
with RETURNING (in parameter order) where the new ids are needed.
"""

from __future__ import annotations

import contextlib
import itertools
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection, Table, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.core import sketch
from archive.core.sketch import SketchConfig
from archive.db import bandindex
from archive.db.models import Article, Source

# Bound parameters per statement: far under SQLite's limit (32766) and PostgreSQL's (65535).
CHUNK = 5000
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
# SQLite allows at most 500 terms in one compound SELECT.
_UNION_CHUNK = 400


def chunks(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def existing(session: Session, column, values: Iterable) -> set:
    """The subset of `values` present in `column` (a unique column, looked up by its index)."""
    wanted = list(set(values))
    found: set = set()
    for part in chunks(wanted):
        found.update(session.scalars(select(column).where(column.in_(part))))
    return found


def source_ids(session: Session, wanted: dict[str, str], cache: dict[str, int]) -> dict[str, int]:
    """name -> id for every name in `wanted` (name -> kind), creating the missing sources.

    The insert skips names another process inserted meanwhile (ON CONFLICT DO NOTHING), so two
    workers meeting one new source never fail on its unique name.
    """
    missing = [name for name in wanted if name not in cache]
    for part in chunks(missing):
        cache.update(session.execute(select(Source.name, Source.id).where(Source.name.in_(part))).all())
    new = [name for name in missing if name not in cache]
    if new:
        upsert = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(session.get_bind().dialect.name)
        statement = upsert(Source).on_conflict_do_nothing(index_elements=["name"]) if upsert else insert(Source)
        for part in chunks(new):
            session.execute(statement, [{"name": name, "kind": wanted[name]} for name in part])
            cache.update(session.execute(select(Source.name, Source.id).where(Source.name.in_(part))).all())
    return {name: cache[name] for name in wanted}


def texts_by_hash(session: Session, hashes: Iterable[str], per_hash: int, at_once: bool = False) -> dict[str, list[int]]:
    """text hash -> up to `per_hash` ids of archived articles with that exact text, the oldest
    first (`at_once`: see `_driver_rows`)."""
    out: dict[str, list[int]] = {}
    for part in chunks(list(set(hashes))):
        where, params = _id_filter(session, "text_hash", part, "text")
        sql = f"SELECT text_hash, id FROM articles WHERE {where}"
        for digest, article_id in _driver_rows(session, sql, params, "text_hash, id" if at_once else None):
            out.setdefault(digest, []).append(article_id)
    for ids in out.values():
        ids.sort()
        del ids[per_hash:]
    return out


@contextlib.contextmanager
def _dbapi_errors(connection: Connection, statement: str, params) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy raises them from `session.execute`, so callers that
    retry a deadlock or a dropped connection (`archive.db.locks.retryable`) see these too."""
    dbapi = connection.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        dropped = connection.dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
        if dropped:
            connection.invalidate(exc)
        raise DBAPIError.instance(statement, params, exc, dbapi.Error, connection_invalidated=dropped,
                                  dialect=connection.dialect) from exc


def _driver_rows(session: Session, sql: str, params: list, at_once: str | None = None) -> list[Sequence]:
    """Rows of `sql` (with `?` placeholders) run on the DBAPI connection directly.

    The postings reads bind thousands of values per statement and return up to a million rows;
    SQLAlchemy would build a bound-parameter object per value and a Row per row, which cost more
    than the query itself.

    `at_once` (SQLite; the result's columns, comma-separated): SQLite gathers the rows into one
    JSON array, so the whole query runs in one call into the library, which releases the
    interpreter lock. A thread reading beside a busy one (`archive.pipeline.readahead`) would
    otherwise wait for the lock again after every row.
    """
    connection = session.connection()  # in the session's transaction
    if at_once and connection.dialect.name == "sqlite":
        sql = f"SELECT json_group_array(json_array({at_once})) FROM ({sql})"
        with _dbapi_errors(connection, sql, params):
            cursor = connection.connection.cursor()
            try:
                cursor.execute(sql, tuple(params))
                return orjson.loads(cursor.fetchone()[0])
            finally:
                cursor.close()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    with _dbapi_errors(connection, sql, params):
        cursor = connection.connection.cursor()  # plain tuples: no Row objects for a million rows
        try:
            cursor.execute(sql, tuple(params))
            return cursor.fetchall()
        finally:
            cursor.close()


def stream_rows(session: Session, sql: str, params: Sequence = (), size: int = 100_000) -> Iterator[list[tuple]]:
    """Rows of `sql` (`?` placeholders) in lists of at most `size`, never all in memory at once:
    a server-side cursor on PostgreSQL (psycopg's client cursor would fetch every row at once),
    `fetchmany` on SQLite; in the session's transaction."""
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        sql = sql.replace("?", "%s")
    with _dbapi_errors(connection, sql, params):
        driver = connection.connection.driver_connection
        cursor = driver.cursor(name="archive_stream") if postgresql else connection.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            while rows := cursor.fetchmany(size):
                yield rows
        finally:
            cursor.close()


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def postings(session: Session, level: int, keys: Iterable[tuple[int, int]],
             at_once: bool = False) -> dict[tuple[int, int], list[int]]:
    """(band, key) -> ids of the articles indexed under it (the copy LSH: buckets are small).

    Each wanted pair is one seek on (level, band, key): an `IN` on the key alone would scan the
    whole level. On SQLite the pairs are joined as a VALUES list; on PostgreSQL they go as two
    arrays into a LATERAL lookup, which is a nested loop of index seeks whatever the planner's
    statistics say (a VALUES join planned while the table grew faster than autoanalyze kept up
    became a scan of the whole level, a cost growing with the archive), and whose text stays the
    same size whatever the number of keys. On SQLite both tiers of the level are read
    (`archive.db.bandindex`); PostgreSQL has only the main one. `at_once`: see `_driver_rows`.
    """
    out: dict[tuple[int, int], list[int]] = {}
    if _is_postgresql(session):
        for part in chunks(sorted(set(keys)), CHUNK):
            sql = ("SELECT w.band, w.key, s.article_id FROM unnest(?::smallint[], ?::bigint[]) AS w(band, key) "
                   "CROSS JOIN LATERAL (SELECT article_id FROM band_keys WHERE level = ? AND band = w.band "
                   "AND key = w.key) AS s")
            for band, key, article_id in _driver_rows(session, sql, [[b for b, _ in part], [k for _, k in part], level]):
                out.setdefault((band, key), []).append(article_id)
        return out
    for part in chunks(sorted(set(keys)), CHUNK // 2):
        params: list[int] = [v for pair in part for v in pair]
        sql = (f"WITH wanted(band, key) AS (VALUES {', '.join(['(?, ?)'] * len(part))}) "
               "SELECT wanted.band, wanted.key, band_keys.article_id FROM wanted JOIN band_keys "
               "ON band_keys.level IN (?, ?) AND band_keys.band = wanted.band AND band_keys.key = wanted.key")
        for band, key, article_id in _driver_rows(session, sql, params + list(bandindex.tiers(level)),
                                                  "band, key, article_id" if at_once else None):
            out.setdefault((band, key), []).append(article_id)
    return out


def capped_postings(session: Session, level: int, band: int, keys: Iterable[int], cap: int,
                    at_once: bool = False) -> dict[int, list[int]]:
    """key -> the `cap` newest article ids indexed under it, newest first, in a few statements
    (on PostgreSQL an array of keys into a LATERAL top-`cap` seek; on SQLite a UNION ALL of them,
    one per key and tier of the index; `at_once`: see `_driver_rows`)."""
    out: dict[int, list[int]] = {}
    distinct = sorted(set(keys))
    if _is_postgresql(session):
        sql = ("SELECT w.key, s.article_id FROM unnest(?::bigint[]) AS w(key) CROSS JOIN LATERAL "
               "(SELECT article_id FROM band_keys WHERE level = ? AND band = ? AND key = w.key "
               "ORDER BY article_id DESC LIMIT ?) AS s")
        for part in chunks(distinct, CHUNK):
            for key, article_id in _driver_rows(session, sql, [list(part), level, band, cap]):
                out.setdefault(key, []).append(article_id)
    else:
        # One top-`cap` seek per key and tier: with both tiers in one `level IN` the newest first
        # order of the index is lost, and every posting of a frequent term would be read and sorted.
        for part in chunks(distinct, _UNION_CHUNK // 2):
            selects, params = [], []
            for i, (key, stored_level) in enumerate(itertools.product(part, bandindex.tiers(level))):
                selects.append(
                    f"SELECT * FROM (SELECT key, article_id FROM band_keys WHERE level = ? AND band = ? "
                    f"AND key = ? ORDER BY article_id DESC LIMIT ?) AS s{i}"
                )
                params += [stored_level, band, key, cap]
            for key, article_id in _driver_rows(session, " UNION ALL ".join(selects), params,
                                                "key, article_id" if at_once else None):
                out.setdefault(key, []).append(article_id)
    for key, ids in out.items():
        ids.sort(reverse=True)
        del ids[cap:]
    return out


def _id_filter(session: Session, column: str, ids: Sequence[int | str], array_type: str = "bigint") -> tuple[str, list]:
    """`column` among `ids`: `= ANY(array)` on PostgreSQL (one parameter), an IN list on SQLite."""
    if _is_postgresql(session):
        return f"{column} = ANY(?::{array_type}[])", [list(ids)]
    return f"{column} IN ({', '.join(['?'] * len(ids))})", list(ids)


def memberships(session: Session, article_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """article id -> {"copy": cluster id, "event": cluster id}."""
    out: dict[int, dict[str, int]] = {}
    for part in chunks(sorted(set(article_ids))):
        where, params = _id_filter(session, "article_id", part)
        sql = f"SELECT article_id, kind, cluster_id FROM cluster_members WHERE {where}"
        for article_id, kind, cluster_id in _driver_rows(session, sql, params):
            out.setdefault(article_id, {})[kind] = cluster_id
    return out


CLUSTER_FIELDS = ("id", "kind", "representative_id", "event_id", "size", "first_seen", "last_seen",
                  "first_published", "last_published", "original_reason", "updated_at")


def clusters(session: Session, cluster_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """cluster id -> its placement fields (CLUSTER_FIELDS, without the centroid) as a dict.

    Read as plain DBAPI rows: batch after batch the writer reads thousands of candidate clusters,
    where SQLAlchemy's rows and datetime processing cost about 25 us each. On PostgreSQL the rows
    are locked (FOR UPDATE, in id order) until the transaction ends: a placement that changes a
    cluster's size or centroid never does so from a read another worker made stale.
    """
    locking = " FOR UPDATE" if _is_postgresql(session) else ""
    out: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(set(cluster_ids))):
        where, params = _id_filter(session, "id", part)
        sql = f"SELECT {', '.join(CLUSTER_FIELDS)} FROM clusters WHERE {where} ORDER BY id{locking}"
        for row in _driver_rows(session, sql, params):
            record = dict(zip(CLUSTER_FIELDS, row))
            for name in _CLUSTER_DATES:
                record[name] = _datetime(record[name])
            out[record["id"]] = record
    return out


_CLUSTER_DATES = ("first_seen", "last_seen", "first_published", "last_published", "updated_at")


def centroids(session: Session, cluster_ids: Iterable[int]) -> dict[int, dict[str, float] | None]:
    """cluster id -> its centroid (the summed event-term vector of an event cluster).

    Plain DBAPI rows decoded with orjson: the writer reads hundreds of centroids a batch, and
    SQLAlchemy's rows and JSON processing were half the cost of reading them.
    """
    out: dict[int, dict[str, float] | None] = {}
    for part in chunks(sorted(set(cluster_ids))):
        where, params = _id_filter(session, "id", part)
        for cluster_id, value in _driver_rows(session, f"SELECT id, centroid FROM clusters WHERE {where}", params):
            # SQLite gives the stored text; psycopg may give it parsed already
            out[cluster_id] = orjson.loads(value) if isinstance(value, (str, bytes)) else value
    return out


def clean_texts(session: Session, article_ids: Iterable[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for part in chunks(sorted(set(article_ids))):
        out.update(session.execute(select(Article.id, Article.clean_text).where(Article.id.in_(part))).all())
    return out


def titles_and_texts(session: Session, article_ids: Iterable[int]) -> list[tuple[int, str | None, str | None]]:
    """(article id, title, clean text) of each article."""
    out: list[tuple[int, str | None, str | None]] = []
    for part in chunks(sorted(set(article_ids))):
        out.extend(tuple(row) for row in session.execute(
            select(Article.id, Article.title, Article.clean_text).where(Article.id.in_(part))))
    return out


def shingle_sets(session: Session, article_ids: Iterable[int], config: SketchConfig) -> dict[int, np.ndarray]:
    """article id -> its sorted distinct shingle hashes: the stored set, or (for articles stored
    before the column existed) the set of its clean text."""
    out: dict[int, np.ndarray] = {}
    for part in chunks(sorted(set(article_ids))):
        where, params = _id_filter(session, "id", part)
        unstored = []
        for article_id, stored in _driver_rows(session, f"SELECT id, shingles FROM articles WHERE {where}", params):
            if stored is None:
                unstored.append(article_id)
            else:
                out[article_id] = sketch.shingles_from_bytes(stored)
        for article_id, clean in clean_texts(session, unstored).items():
            out[article_id] = sketch.shingle_set(clean or "", config)
    return out


def sketches(session: Session, article_ids: Iterable[int]) -> dict[int, tuple[bytes, int]]:
    """article id -> (MinHash signature bytes, distinct shingle count)."""
    out: dict[int, tuple[bytes, int]] = {}
    for part in chunks(sorted(set(article_ids))):
        where, params = _id_filter(session, "id", part)
        rows = _driver_rows(session, f"SELECT id, signature, shingle_count FROM articles WHERE {where}", params)
        out.update((article_id, (bytes(signature), count)) for article_id, signature, count in rows)
    return out


def copy_members(session: Session, cluster_id: int) -> list[tuple]:
    """(article id, published, fetched, attribution, source name, canonical url, url, role) of a cluster."""
    rows = _driver_rows(session, (
        "SELECT articles.id, articles.published_at, articles.fetched_at, articles.attribution, sources.name, "
        "articles.canonical_url, articles.url, cluster_members.role FROM cluster_members "
        "JOIN articles ON articles.id = cluster_members.article_id "
        "LEFT JOIN sources ON sources.id = articles.source_id WHERE cluster_members.cluster_id = ?"), [cluster_id])
    return [(r[0], _datetime(r[1]), _datetime(r[2]), *r[3:]) for r in rows]


def _datetime(value) -> dt.datetime | None:
    """A DateTime column read through the DBAPI: SQLite gives SQLAlchemy's stored text form."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def insert_returning_ids(session: Session, model, rows: list[dict[str, Any]]) -> list[int]:
    """Multi-row INSERT of `rows`; the new ids in the order of the rows.

    On SQLite the ids are given here, the ones SQLite would give (the largest id plus one, and
    on: the tables' INTEGER PRIMARY KEYs have no AUTOINCREMENT), and the rows inserted in one
    executemany. RETURNING in the rows' order is what SQLAlchemy can only promise there by
    running one statement per row, which cost the writer about 5% of its rate (34,000 statements
    for 10,000 articles). The largest id is read under the write lock, taken first by a statement
    that changes nothing (placement holds it already), so no other writer can add a row between
    the read and the insert.
    """
    if not rows:
        return []
    table: Table = model.__table__
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"DELETE FROM {table.name} WHERE 0"))
        last = session.execute(select(func.max(table.c.id))).scalar() or 0
        ids = list(range(last + 1, last + 1 + len(rows)))
        _sqlite_insert(session, table, [{**row, "id": new_id} for row, new_id in zip(rows, ids)])
        return ids
    result = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result]


def insert_rows(session: Session, model, columns: Sequence[str], rows: list[tuple]) -> None:
    """Multi-row INSERT of plain tuples: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    table: Table = model.__table__
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with _dbapi_errors(connection, statement, None):
            cursor = connection.connection.driver_connection.cursor()
            with cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    dated = [i for i, value in enumerate(rows[0]) if isinstance(value, dt.datetime)]
    if dated:  # in the text form SQLAlchemy's SQLite DateTime stores and reads
        rows = [tuple(v.strftime(_SQLITE_DATETIME) if i in dated and v is not None else v for i, v in enumerate(row))
                for row in rows]
    marks = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)


def execute_many(session: Session, sql: str, rows: list[tuple]) -> None:
    """One statement (`?` placeholders) for many rows through the DBAPI cursor, in the session's
    transaction; datetimes go in the text form SQLAlchemy's SQLite DateTime stores."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    elif any(isinstance(v, dt.datetime) for v in rows[0]):
        rows = [tuple(v.strftime(_SQLITE_DATETIME) if isinstance(v, dt.datetime) else v for v in row) for row in rows]
    with _dbapi_errors(connection, sql, rows):
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()


def add_phrase_counts(session: Session, rows: list[tuple[int, int, int]], now: dt.datetime,
                      table: str = "source_phrases") -> list[tuple]:
    """Add (source id, phrase key, articles) to `table` (`source_phrases` or its recent tier; new
    rows with an empty text); return (source id, phrase key, count there after adding) of every
    row, so the learner needs no read back. One statement per chunk: `unnest` arrays on
    PostgreSQL, a VALUES list on SQLite (an executemany had PostgreSQL run the upsert once per row:
    660,000 times for 60,000 articles)."""
    upsert = (f"ON CONFLICT (source_id, phrase_hash) DO UPDATE SET count = {table}.count + excluded.count "
              "RETURNING source_id, phrase_hash, count")
    out: list[tuple] = []
    if _is_postgresql(session):
        sql = (f"INSERT INTO {table} (source_id, phrase_hash, phrase, count, first_seen) "
               "SELECT s, h, '', n, ? FROM unnest(?::integer[], ?::bigint[], ?::integer[]) AS t(s, h, n) " + upsert)
        for part in chunks(rows):
            out += _driver_rows(session, sql, [now, [r[0] for r in part], [r[1] for r in part], [r[2] for r in part]])
        return out
    stamp = now.strftime(_SQLITE_DATETIME)
    for part in chunks(rows, CHUNK // 4):
        sql = (f"INSERT INTO {table} (source_id, phrase_hash, phrase, count, first_seen) VALUES "
               + ", ".join(["(?, ?, '', ?, ?)"] * len(part)) + " " + upsert)
        out += _driver_rows(session, sql, [v for source_id, key, n in part for v in (source_id, key, n, stamp)])
    return out


def phrase_counts(session: Session, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(source id, phrase key) -> count in `source_phrases`, for the pairs stored there."""
    out: dict[tuple[int, int], int] = {}
    for part in chunks(pairs, CHUNK // 2):
        # The VALUES list drives the join, one key lookup per pair (`(a, b) IN (VALUES ...)`
        # would have SQLite scan the table).
        sql = ("WITH wanted(s, h) AS (VALUES " + ", ".join(["(?, ?)"] * len(part)) + ") "
               "SELECT p.source_id, p.phrase_hash, p.count FROM wanted CROSS JOIN source_phrases AS p "
               "ON p.source_id = wanted.s AND p.phrase_hash = wanted.h")
        for source_id, key, n in _driver_rows(session, sql, [v for pair in part for v in pair]):
            out[(source_id, key)] = n
    return out


def update_rows(session: Session, model, rows: list[dict[str, Any]]) -> None:
    """UPDATE by primary key, many rows in one executemany."""
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        session.execute(update(model), rows)
        return
    table: Table = model.__table__
    keys = [c.name for c in table.primary_key.columns]
    names, values = _sqlite_values(session, table, rows, defaults=False)
    assignments = ", ".join(f"{name} = ?" for name in names if name not in keys)
    where = " AND ".join(f"{name} = ?" for name in keys)
    at = [names.index(name) for name in names if name not in keys] + [names.index(name) for name in keys]
    execute_many(session, f"UPDATE {table.name} SET {assignments} WHERE {where}",
                 [tuple(row[i] for i in at) for row in values])


def insert_dicts(session: Session, model, rows: list[dict[str, Any]]) -> None:
    """Multi-row INSERT of dicts (columns with JSON or defaults), one executemany."""
    if not rows:
        return
    if session.get_bind().dialect.name == "sqlite":
        _sqlite_insert(session, model.__table__, rows)
    else:
        session.execute(insert(model.__table__), rows)


def _sqlite_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    names, values = _sqlite_values(session, table, rows)
    execute_many(session, f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(['?'] * len(names))})",
                 values)


def _sqlite_values(session: Session, table: Table, rows: list[dict[str, Any]],
                   defaults: bool = True) -> tuple[list[str], list[tuple]]:
    """(column names, one tuple per row) of dict rows as SQLAlchemy would bind them on SQLite:
    each column's own bind processor applied (its DateTime text, JSON through the engine's
    serializer), and with `defaults` the Python-side default of each column the rows leave out
    (a callable one evaluated once for all the rows). Every row has the first row's keys.

    The writer inserts and updates tens of thousands of such rows a batch; SQLAlchemy's own
    executemany built a parameter dict per row and cost about 4% of the writer's time."""
    dialect = session.get_bind().dialect
    names = list(rows[0])
    fixed: dict[str, Any] = {}
    if defaults:
        for column in table.columns:
            default = column.default
            if column.name not in rows[0] and default is not None and (default.is_scalar or default.is_callable):
                fixed[column.name] = default.arg if default.is_scalar else default.arg(None)
    processors = [(i, column.type.dialect_impl(dialect).bind_processor(dialect))
                  for i, column in enumerate(table.c[name] for name in [*names, *fixed])]
    processors = [(i, process) for i, process in processors if process is not None]
    extra = list(fixed.values())
    values = []
    for row in rows:
        value = [row[name] for name in names]
        value += extra
        for i, process in processors:
            value[i] = process(value[i])
        values.append(tuple(value))
    return [*names, *fixed], values
