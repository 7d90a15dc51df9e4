"""The band index's two tiers on SQLite: new keys go to a small recent tier, moved in key order
into the main tier once it holds `index_recent_articles` articles (a setting; 50,000 by default).

The keys of `band_keys` are random hashes. Inserted straight into a B-tree far larger than the
cache, nearly every key of a batch lands on a leaf page of its own, which is read, logged and
checkpointed; that cost grows with the archive (on a 1,000,000-article index it was 4x the cost
of inserting the same keys into a small table, in a micro-benchmark of 44 random keys per
article). So on SQLite a batch writes its keys to the recent tier: the same table, each key
under its level plus `RECENT` (2 for copy keys, 3 for event keys), a contiguous range of the
primary key small enough to stay in the cache. When the recent tier holds that many articles,
one transaction moves all of it into the main tier in key order, so a main-tier leaf page is
written once for many keys instead of once per key. The table has no other index (migration
0007): an index on article_id doubled the move's work, since moving a key changes its level.

Readers ask for both tiers (`tiers`); an article's keys are in one of them, never both. The move
runs with foreign-key checks off, in its own transaction after a batch's commit: the rows it
moves were checked when they were inserted, and checking them again would look up each key's
article at random in the large articles table (half the cost of the move when measured).
Either the whole move is committed or none of it, so a crash loses nothing.

PostgreSQL keeps one tier: several workers write at once there, and its buffer manager writes
pages back in the background; keys go straight to the main tier and reads skip the recent one.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

RECENT = 2


def tiers(level: int) -> tuple[int, int]:
    """The stored levels holding the keys of `level` (0 copy, 1 event): main tier, recent tier."""
    return (level, level + RECENT)


def write_level(session: Session, level: int) -> int:
    """The stored level a new key of `level` is inserted under: the recent tier on SQLite."""
    return level + RECENT if session.get_bind().dialect.name == "sqlite" else level


def recent_articles(session_or_connection) -> int:
    """Articles in the recent tier: each has exactly one copy key in band 0."""
    return session_or_connection.execute(text(
        "SELECT count(*) FROM band_keys WHERE level = :level AND band = 0"), {"level": RECENT}).scalar_one()


def merge(engine: Engine) -> int:
    """Move every recent-tier key into the main tier, in key order, in one transaction; the rows moved.

    Only on SQLite (elsewhere nothing is staged: 0). Takes the write lock for the whole move,
    seconds on a large archive; other writers wait for it as for any batch.
    """
    if engine.dialect.name != "sqlite":
        return 0
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
                    "INSERT OR IGNORE INTO band_keys (level, band, key, article_id) "
                    "SELECT level - ?, band, key, article_id FROM band_keys WHERE level >= ? "
                    "ORDER BY level, band, key, article_id", (RECENT, RECENT)).rowcount
                connection.execute("DELETE FROM band_keys WHERE level >= ?", (RECENT,))
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


def merge_if_due(engine: Engine, limit: int) -> int:
    """`merge` when the recent tier holds at least `limit` articles; the rows moved (0 when not due).

    A move that fails for the database's state (another writer held the lock past the timeout,
    the disk is full) is logged and left for a later call: its transaction is rolled back and
    the keys stay in the recent tier, where they are read as well.
    """
    if engine.dialect.name != "sqlite":
        return 0
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            held = recent_articles(connection)
        if held < limit:
            return 0
        moved = merge(engine)
    except (sqlite3.OperationalError, OperationalError) as exc:  # locked past the timeout, disk full
        log.warning("band index: the recent tier was not moved this time (%s); it stays readable", exc)
        return 0
    log.info("band index: %d keys of %d articles moved to the main tier in %.1f s",
             moved, held, time.perf_counter() - started)
    return moved
