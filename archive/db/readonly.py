"""Read-only connections for ad-hoc SQL: a write is refused by the database itself, not by parsing.

SQLite is opened through a `mode=ro` URI (and may attach no database). PostgreSQL sessions start
with `default_transaction_read_only=on` and every query runs inside a `SET TRANSACTION READ ONLY`
transaction, whose snapshot is taken before the query (so it cannot switch to read-write), and
which is rolled back; queries go through the extended protocol (a prepared
statement), which carries exactly one statement, so `COMMIT; ...` cannot end the read-only
transaction and run a second statement.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from archive.db.engine import SQLITE_BUSY_TIMEOUT_MS, is_sqlite, make_engine, mask_url
from archive.errors import ArchiveError, BadInput, NotFound


@dataclasses.dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


@contextlib.contextmanager
def readonly_connection(url: str) -> Iterator[Connection]:
    """A connection on which the database refuses every write; nothing it does is committed."""
    if is_sqlite(url):
        path = make_url(url).database
        if not path or path == ":memory:":
            raise ArchiveError("an in-memory SQLite archive cannot be opened read-only: use a file")
        if not Path(path).exists():
            raise NotFound(f"no archive at {path}: run `archive db upgrade` and `archive ingest` first")
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        engine = create_engine("sqlite://", poolclass=NullPool, creator=lambda: _sqlite_readonly(uri))
    else:
        engine = make_engine(url, poolclass=NullPool,
                             connect_args={"options": "-c default_transaction_read_only=on"})
    try:
        with engine.connect() as conn:
            if not is_sqlite(url):
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                # A first query takes the transaction's snapshot: after it, no statement can
                # switch the transaction back to read-write.
                conn.exec_driver_sql("SELECT 1")
            try:
                yield conn
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def _sqlite_readonly(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    # ATTACH would create a missing file, even read-only: allow no attached databases at all.
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    return conn


def run_sql(url: str, sql: str) -> QueryResult:
    """Run one statement on a read-only connection; a refused write or bad SQL is a BadInput."""
    with readonly_connection(url) as conn:
        cursor = conn.connection.driver_connection.cursor()
        try:
            if is_sqlite(url):
                cursor.execute(sql)
            else:
                cursor.execute(sql, prepare=True)
            columns = [d[0] for d in cursor.description or ()]
            rows = [tuple(r) for r in cursor.fetchall()] if cursor.description else []
        except Exception as exc:  # the driver's own error says what the database refused and why
            raise BadInput(f"query refused by {mask_url(url)}: {_first_line(exc)}") from None
        finally:
            cursor.close()
    return QueryResult(columns, rows)


def run_bound(url: str, sql: str, params: Mapping[str, Any]) -> QueryResult:
    """Run a query with :named parameters (always bound, never pasted in) read-only."""
    with readonly_connection(url) as conn:
        try:
            result = conn.execute(text(sql), dict(params))
            return QueryResult(list(result.keys()), [tuple(r) for r in result])
        except Exception as exc:
            raise BadInput(f"query refused by {mask_url(url)}: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    message = str(getattr(exc, "orig", None) or exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__
