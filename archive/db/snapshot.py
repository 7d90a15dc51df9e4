"""Consistent read-only snapshots of an SQLite archive, for reading beside the one writer.

In WAL mode a reader sees the last commit made before its transaction's first read, whatever the
writer commits meanwhile. `SnapshotReader.snapshot()` opens such a transaction (an explicit
BEGIN: Python's sqlite3 module would otherwise run each SELECT in a snapshot of its own) on a
connection that refuses writes (`query_only`), with a small page cache since the process reading
is one of several.

`archive_mark` tells one committed state of the archive from another as far as placement reads
it: the newest article, the newest cluster-history row (every automatic or manual change to
clusters writes one) and the band index's generation (`archive check --repair` counts it up).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from archive.db import queries
from archive.db.engine import SQLITE_BUSY_TIMEOUT_MS

Mark = tuple[int, int, str | None]

READER_CACHE_KIB = 16 * 1024  # per reading process: the writer keeps the 64 MB cache


def archive_mark(session: Session) -> Mark:
    """(newest article id, newest cluster-history id, index generation) in the session's snapshot."""
    row = session.execute(text(
        "SELECT (SELECT coalesce(max(id), 0) FROM articles), (SELECT coalesce(max(id), 0) FROM cluster_history), "
        "(SELECT value FROM archive_meta WHERE key = :key)"), {"key": queries.INDEX_GENERATION}).one()
    return int(row[0]), int(row[1]), row[2]


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute("PRAGMA query_only=1")
    conn.execute(f"PRAGMA cache_size=-{READER_CACHE_KIB}")
    return conn


class SnapshotReader:
    """One connection to an SQLite archive file; each `snapshot()` is one read transaction."""

    def __init__(self, url: str):
        path = make_url(url).database
        if not path or path == ":memory:":
            raise ValueError("snapshots need an SQLite archive file")
        path = str(Path(path).resolve())
        self.engine = create_engine("sqlite://", poolclass=StaticPool, creator=lambda: _connect(path))
        # The driver is in autocommit mode: the transaction, and so the snapshot, starts here.
        event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
