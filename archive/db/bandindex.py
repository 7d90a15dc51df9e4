"""The band index's three tiers on SQLite: a batch writes its keys to a small new tier, which is
moved into a recent tier every `index_new_articles` articles (10,000 by default), which is moved
into the main tier once it holds the geometric mean of the new tier's size and the main tier's
(at least `index_recent_articles`, 50,000 by default: 100,000 at 1,000,000 archived).

The keys of the index are random hashes. Inserted straight into a B-tree far larger than the
cache, nearly every key of a batch lands on a leaf page of its own, which is read, logged and
checkpointed; that cost grows with the tree. So each tier is a table of its own
(`band_keys_new`, `band_keys_recent`, `band_keys`, the same columns and primary key): a batch's
keys go into the new tier, small enough to stay in the cache, and a move copies a whole tier
into the next in key order (a leaf page of the larger tier is written once for many keys) and
empties it (SQLite drops a whole table's pages at once). A tier's size against the next's sets
how many keys share a page when it is moved; with the recent tier growing as the square root of
the archive, the pages written per article grow as that square root too, instead of as the
archive (measured in docs/performance-history.md).

Readers ask every tier (`tables`); an article's keys are in one of them (briefly in two after
`archive check --repair`, which writes into the main tier; a move skips what is already there).
A move runs with foreign-key checks off, in its own transaction between batches: its rows were
checked when they were inserted, and checking them again would look up each key's article at
random in the large articles table. Either the whole move is committed or none of it, so a
crash loses nothing.

PostgreSQL keeps one tier: several workers write at once there, and its buffer manager writes
pages back in the background; keys go straight to `band_keys` and the other two stay empty.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from archive.db.models import BandKey, BandKeyNew, BandKeyRecent

log = logging.getLogger(__name__)

NEW, RECENT, MAIN = BandKeyNew.__tablename__, BandKeyRecent.__tablename__, BandKey.__tablename__
MODELS = (BandKeyNew, BandKeyRecent, BandKey)  # newest first
_COLUMNS = "level, band, key, article_id"


def _dialect(session_or_bind) -> str:
    bind = session_or_bind.get_bind() if isinstance(session_or_bind, Session) else session_or_bind
    return bind.dialect.name


def tables(session_or_bind) -> tuple[str, ...]:
    """The tables holding the index's keys, newest first: all three on SQLite, the main one elsewhere."""
    return (NEW, RECENT, MAIN) if _dialect(session_or_bind) == "sqlite" else (MAIN,)


def write_model(session: Session):
    """The model a batch inserts its keys through: the new tier on SQLite."""
    return BandKeyNew if _dialect(session) == "sqlite" else BandKey


def tier_articles(connection, table: str) -> int:
    """Articles whose keys `table` holds: each has exactly one copy key in band 0."""
    return connection.execute(text(f"SELECT count(*) FROM {table} WHERE level = 0 AND band = 0")).scalar_one()


def recent_target(new_articles: int, recent_least: int, main_articles: int) -> int:
    """Articles the recent tier holds before it is moved into the main tier."""
    return max(recent_least, math.isqrt(new_articles * main_articles))


def merge(engine: Engine, source: str, target: str) -> int:
    """Move every key of tier `source` into tier `target`, in key order, in one transaction; the rows moved.

    Takes SQLite's write lock for the whole move (seconds when the target is large); other
    writers wait for it as for any batch.
    """
    if source not in (NEW, RECENT) or target not in (RECENT, MAIN):
        raise ValueError(f"no move from {source} to {target}")
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    try:
        # Not inside a transaction: the pragma is a no-op there.
        connection.execute("PRAGMA foreign_keys=OFF")
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                # OR IGNORE: `archive check --repair` rebuilds keys in the main tier; a key it
                # wrote there and also left here is already in place.
                moved = connection.execute(
                    f"INSERT OR IGNORE INTO {target} ({_COLUMNS}) SELECT {_COLUMNS} FROM {source} "
                    f"ORDER BY {_COLUMNS}").rowcount
                connection.execute(f"DELETE FROM {source}")  # no WHERE: the table's pages are dropped at once
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        finally:
            connection.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        pooled.invalidate()  # its foreign-key setting is no longer known
        raise
    finally:
        pooled.close()
    return moved


def merge_if_due(engine: Engine, new_articles: int, recent_least: int) -> int:
    """The moves that are due: the new tier into the recent one once it holds `new_articles`
    articles, then the recent tier into the main one once it holds `recent_target` articles.
    The rows moved (0 when nothing was due; only on SQLite).

    A move that fails for the database's state (another writer held the lock past the timeout,
    the disk is full) is logged and left for a later call: its transaction is rolled back and the
    keys stay where they were, where they are read as well.
    """
    if engine.dialect.name != "sqlite":
        return 0
    moved = 0
    try:
        with engine.connect() as connection:
            held = tier_articles(connection, NEW)
        if held < new_articles:
            return 0
        moved += _timed_merge(engine, NEW, RECENT, held)
        with engine.connect() as connection:
            held = tier_articles(connection, RECENT)
            due = recent_target(new_articles, recent_least, tier_articles(connection, MAIN))
        if held >= due:
            moved += _timed_merge(engine, RECENT, MAIN, held)
    except (sqlite3.OperationalError, OperationalError) as exc:  # locked past the timeout, disk full
        log.warning("band index: a tier was not moved this time (%s); it stays readable", exc)
    return moved


def _timed_merge(engine: Engine, source: str, target: str, articles: int) -> int:
    started = time.perf_counter()
    moved = merge(engine, source, target)
    log.info("band index: %d keys of %d articles moved from %s to %s in %.1f s",
             moved, articles, source, target, time.perf_counter() - started)
    return moved
