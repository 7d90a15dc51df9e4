"""Engine and session factory; SQLite gets WAL, a busy timeout and foreign keys."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def mask_url(url: str) -> str:
    """The URL with its password hidden, for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown without anything after the scheme
        return url.split("://", 1)[0] + "://***"


def first_line(exc: BaseException) -> str:
    """The driver's own message of a database error, without SQLAlchemy's statement and parameters."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def describe_database_error(exc: BaseException, url: str) -> str:
    """One line for a database failure: what happened and where, never the password or the SQL."""
    first = first_line(exc)
    where = mask_url(url)
    if is_sqlite(url) and "locked" in first:
        return (f"the archive {where} is locked by another process (waited {SQLITE_BUSY_TIMEOUT_MS // 1000} s); "
                "run one writer at a time on SQLite, or use PostgreSQL for several workers")
    return f"database {where} failed: {first}"


SQLITE_CACHE_MB = 64  # per connection, filled only as pages are read (`sqlite_cache_mb` in settings)
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 100_000
# Prepared statements a connection keeps (Python's default is 128). The batch reads bind thousands
# of values, and each such statement compiles to hundreds of KB; a batch's last, shorter chunk is
# new text every time, so 128 of them held about 50 MB per connection in a long run. The
# statements used batch after batch stay among the last 32.
SQLITE_STATEMENTS = 32


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection, _record, cache_mb: int = SQLITE_CACHE_MB) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A larger page cache than the 2 MB default: the index pages a batch touches (LSH buckets,
    # term postings, memberships) stay in memory instead of being read again from the OS.
    cursor.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
    # A connection checkpoints the write-ahead log itself only past ~400 MB of it. A long run's
    # background thread (archive.db.checkpoint) does the copying beside the writer; at 40 MB
    # (10,000 pages) a batch on a 144,000-article archive (about 60 MB of log) pushed the log
    # past the limit at nearly every commit, and the writer stopped to checkpoint and sync:
    # 10,000 more articles took 89-94 s at 10,000 pages against 75-79 s at 100,000.
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()


def _json_dumps(value) -> str:
    """JSON text of a column value, as the standard library would write it less the spaces."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


def make_engine(url: str, sqlite_cache_mb: int = SQLITE_CACHE_MB, sqlite_statements: int = SQLITE_STATEMENTS,
                **kwargs) -> Engine:
    """An engine for `url`; on SQLite each connection keeps `sqlite_cache_mb` of pages and
    `sqlite_statements` prepared statements."""
    # JSON columns (event centroids, term vectors, evidence) are read and written batch after
    # batch by the writer: orjson parses and writes the same values several times as fast.
    kwargs.setdefault("json_deserializer", orjson.loads)
    kwargs.setdefault("json_serializer", _json_dumps)
    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                                                  "cached_statements": sqlite_statements}, **kwargs)
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, cache_mb=sqlite_cache_mb))
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return create_engine(url, pool_pre_ping=True, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together at the end, or not at all."""
    with factory() as session, session.begin():
        yield session
