"""A consistent copy of a SQLite archive while ingest goes on (SQLite's online backup API).

The copy is taken in one backup step, which reads one snapshot of the database (writers keep
going under WAL), written to a temporary file beside the target, checked with
`PRAGMA quick_check` and only then renamed into place, so a half-written backup never exists.
PostgreSQL archives are backed up with the server's own tool, pg_dump.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from archive.db.engine import SQLITE_BUSY_TIMEOUT_MS, is_sqlite, mask_url
from archive.errors import ArchiveError


class BackupError(ArchiveError):
    """The backup could not be made; the message says why and what to do."""


def pg_dump_hint(url: str) -> str:
    u = make_url(url)
    parts = ["pg_dump", "--format=custom"]
    if u.host:
        parts.append(f"--host={u.host}")
    if u.port:
        parts.append(f"--port={u.port}")
    if u.username:
        parts.append(f"--username={u.username}")
    parts += ["--file=PATH", u.database or "DBNAME"]
    return " ".join(parts)


def backup(url: str, target: str | Path) -> dict[str, object]:
    """Copy the SQLite archive at `url` to `target`; returns the target, its size and page count."""
    if not is_sqlite(url):
        raise BackupError(
            f"{mask_url(url)} is a PostgreSQL archive: back it up with the server's tool, "
            f"e.g. `{pg_dump_hint(url)}` (restore with pg_restore)")
    source = make_url(url).database
    if not source or source == ":memory:":
        raise BackupError("an in-memory archive has nothing on disk to back up")
    source_path, target_path = Path(source).resolve(), Path(target).resolve()
    if not source_path.exists():
        raise BackupError(f"no archive at {source_path}: `archive db upgrade` creates it")
    if target_path == source_path:
        raise BackupError(f"the backup target {target_path} is the archive itself: choose another path")
    if target_path.exists():
        raise BackupError(f"{target_path} already exists: choose a new path (a backup never overwrites a file)")
    if not target_path.parent.is_dir():
        raise BackupError(f"the folder {target_path.parent} does not exist")
    partial = target_path.with_name(f".{target_path.name}.{os.getpid()}.partial")
    try:
        _copy(source_path, partial)
        os.replace(partial, target_path)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source_path} failed: {exc}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return {"source": str(source_path), "target": str(target_path), "bytes": target_path.stat().st_size}


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: the whole database in one step, from one snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
        result = dst.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {result}")
    finally:
        dst.close()
        src.close()
