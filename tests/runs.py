"""Ingest runs in child processes, and what an archive holds, for fault and concurrency tests."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ARCHIVE = [sys.executable, "-c", "from archive.cli import main; main()"]
Partition = set[frozenset[str]]


def start_ingest(url: str, paths: list[Path], log: Path, batch_size: int = 5) -> subprocess.Popen:
    """`archive ingest PATHS --json` in a child process; stdout and stderr go to `log`(.out/.err)."""
    # A commit per batch (ARCHIVE_COMMIT_SIZE 0), so a kill falls between many small commits.
    env = {**os.environ, "ARCHIVE_DATABASE_URL": url, "ARCHIVE_BATCH_SIZE": str(batch_size), "ARCHIVE_COMMIT_SIZE": "0"}
    env.pop("ARCHIVE_CONFIG", None)
    return subprocess.Popen(ARCHIVE + ["ingest", *map(str, paths), "--json"], env=env,
                            stdout=log.with_suffix(".out").open("wb"), stderr=log.with_suffix(".err").open("wb"))


def cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ARCHIVE_DATABASE_URL": url}
    env.pop("ARCHIVE_CONFIG", None)
    return subprocess.run(ARCHIVE + list(args), env=env, capture_output=True, text=True, timeout=600)


def check(url: str):
    """The `archive check` report of the archive at `url`."""
    from archive.api import Archive
    from archive.config import load_settings

    with Archive(load_settings({"ARCHIVE_DATABASE_URL": url})) as archive:
        return archive.check()


def scalar(url: str, sql: str):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(sql))
    finally:
        engine.dispose()


def partitions(url: str) -> dict[str, Partition]:
    """kind -> clusters as sets of article URLs (cluster ids may differ between runs)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT m.kind, m.cluster_id, a.url FROM cluster_members m "
                                     "JOIN articles a ON a.id = m.article_id")).all()
    finally:
        engine.dispose()
    groups: dict[tuple[str, int], set[str]] = {}
    for kind, cluster_id, url_ in rows:
        groups.setdefault((kind, cluster_id), set()).add(url_)
    out: dict[str, Partition] = {"copy": set(), "event": set()}
    for (kind, _), members in groups.items():
        out[kind].add(frozenset(members))
    return out


def truth(files: list[Path]) -> Partition:
    """The copy partition synth files must form: a base article with its reprints (aNNNNN-R.txt)."""
    groups: dict[str, set[str]] = {}
    for path in files:
        groups.setdefault(path.name.split("-")[0], set()).add(path.resolve().as_uri())
    return {frozenset(g) for g in groups.values()}


@contextlib.contextmanager
def sqlite_writer_holding_the_lock(url: str) -> Iterator[None]:
    """Another writer mid-transaction on an SQLite archive, until the block ends (nothing written)."""
    holder = sqlite3.connect(url.removeprefix("sqlite:///"))
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()
