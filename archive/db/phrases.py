"""Counts of edge phrases per source (table source_phrases), read and updated per batch.

Most edge phrases are seen once and never again (97% of the rows at 100,000 articles), so nearly
every count is a new key at a random place in `source_phrases`' primary key, a B-tree that grows
by about 11 rows per article. On SQLite a batch's counts therefore go to a small recent tier,
`source_phrases_recent`, that stays in the page cache; `fold` adds it into `source_phrases` in
key order, so each page of the large index is written once for many keys. A phrase's count is
its row in `source_phrases` plus its row in the recent tier, and every reader here adds the
two. The ingest run folds when the tier holds `RECENT_ROWS` rows and when the run ends; the fold
is one transaction, so a crash leaves the counts in one tier or the other, never lost or
counted twice. PostgreSQL counts straight into `source_phrases`, as the band index keeps one
tier there (`archive.db.bandindex`): several workers write at once, and its buffer manager
writes pages back in the background.

Reading a batch's folded counts is one seek per phrase into that large index, and nearly all of
them find nothing; the ingest run does it for the next batch in its read-ahead thread
(`read_folded`, `archive.pipeline.readahead`). Only a fold changes `source_phrases`' counts, and
every fold counts up a generation in `archive_meta` in its transaction, so counts read in an
earlier snapshot are used only while the generation is still the one they were read at.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from archive.db import bulk, locks, queries
from archive.db.models import Source, SourcePhrase, utcnow

log = logging.getLogger(__name__)

# About 18,000 articles' phrases; about 7 MB of rows, well inside SQLite's page cache. Folded
# every 18,000 articles into a 1,000,000-article archive (10 million rows, about 46,000 index
# pages), a fold writes most of those pages once, about 2.5 per article, where counting straight
# into the table wrote close to one page per phrase, about 10 per article.
RECENT_ROWS = 200_000
FOLD_GENERATION = "phrase_fold_generation"  # archive_meta key: counted up by every fold


@dataclasses.dataclass(frozen=True)
class FoldedCounts:
    """Counts in `source_phrases` of some (source id, phrase key) pairs, read in one snapshot."""

    generation: str | None  # the fold generation of that snapshot
    asked: frozenset[tuple[int, int]]
    counts: dict[tuple[int, int], int]  # the pairs of `asked` stored there; the others count 0


def staged(session: Session) -> bool:
    """True when counts go to the recent tier first (SQLite)."""
    return session.get_bind().dialect.name == "sqlite"


def learned(session: Session, source_names: Iterable[str] | None, min_articles: int) -> dict[str, set[int]]:
    """source name -> keys of the phrases seen in at least `min_articles` of its articles
    (for the named sources, or every source when `source_names` is None)."""
    folded = (select(Source.name, SourcePhrase.phrase_hash)
              .join(SourcePhrase, SourcePhrase.source_id == Source.id)
              .where(SourcePhrase.count >= min_articles))
    out: dict[str, set[int]] = {}
    if source_names is not None:
        names = sorted(set(source_names))
        out = {name: set() for name in names}
        if not names:
            return out
        folded = folded.where(Source.name.in_(names))
    for name, key in session.execute(folded):
        out.setdefault(name, set()).add(key)
    # Phrases whose counts lie partly or wholly in the recent tier.
    recent = text(
        "SELECT s.name, r.phrase_hash FROM source_phrases_recent AS r JOIN sources AS s ON s.id = r.source_id "
        "LEFT JOIN source_phrases AS p ON p.source_id = r.source_id AND p.phrase_hash = r.phrase_hash "
        "WHERE r.count + coalesce(p.count, 0) >= :least")
    for name, key in session.execute(recent, {"least": min_articles}):
        if source_names is None or name in out:
            out.setdefault(name, set()).add(key)
    return out


def read_folded(session: Session, pairs: Iterable[tuple[str, int]]) -> FoldedCounts | None:
    """The folded counts of these (source name, phrase key) pairs, for `count` to use later
    (pairs of sources not stored yet are left for it to read); None where nothing is staged."""
    if not staged(session):
        return None
    pairs = set(pairs)
    ids = _source_ids(session, {name for name, _ in pairs}) if pairs else {}
    asked = sorted((ids[name], key) for name, key in pairs if name in ids)
    generation = queries.get_meta(session, FOLD_GENERATION)
    return FoldedCounts(generation, frozenset(asked), bulk.phrase_counts(session, asked))


def count(session: Session, seen: dict[tuple[str, int], tuple[str, int]],
          folded_ahead: FoldedCounts | None = None) -> dict[tuple[str, int], int]:
    """Add article counts: (source name, phrase key) -> (phrase, articles it was seen in); return
    each pair's count after adding (pairs whose source is not stored are left out).
    `folded_ahead`: folded counts read earlier (`read_folded`), used while no fold came between.

    A phrase's text is stored only once it is learned (`describe`); until then its row holds the
    key and count, and an empty text.
    """
    if not seen:
        return {}
    ids = _source_ids(session, {n for n, _ in seen})
    names = {source_id: name for name, source_id in ids.items()}
    rows = [(ids[name], key, n) for (name, key), (_, n) in sorted(seen.items()) if name in ids]
    if not staged(session):
        added = bulk.add_phrase_counts(session, rows, utcnow())
        return {(names[source_id], key): total for source_id, key, total in added}
    added = bulk.add_phrase_counts(session, rows, utcnow(), table="source_phrases_recent")
    pairs = [(source_id, key) for source_id, key, _ in added]
    if folded_ahead is not None and folded_ahead.generation == queries.get_meta(session, FOLD_GENERATION):
        folded = {pair: folded_ahead.counts[pair] for pair in pairs if pair in folded_ahead.counts}
        folded.update(bulk.phrase_counts(session, [pair for pair in pairs if pair not in folded_ahead.asked]))
    else:
        folded = bulk.phrase_counts(session, pairs)
    return {(names[source_id], key): total + folded.get((source_id, key), 0) for source_id, key, total in added}


def describe(session: Session, learned: dict[tuple[str, int], str]) -> None:
    """Store the text of newly learned phrases: (source name, phrase key) -> phrase."""
    if not learned:
        return
    ids = _source_ids(session, {n for n, _ in learned})
    rows = [(phrase[:1000], ids[name], key) for (name, key), phrase in sorted(learned.items()) if name in ids]
    tables = ("source_phrases", "source_phrases_recent") if staged(session) else ("source_phrases",)
    for table in tables:  # the row is in one tier or both; the fold keeps the text
        bulk.execute_many(session, f"UPDATE {table} SET phrase = ? WHERE source_id = ? AND phrase_hash = ?", rows)


def fold(session: Session) -> int:
    """Add the recent tier into `source_phrases` in key order and empty it, in the session's
    transaction; the rows folded (0 on PostgreSQL, where nothing is staged)."""
    if not staged(session):
        return 0
    # `WHERE true`: SQLite needs it to parse an upsert whose rows come from a SELECT.
    folded = session.execute(text(
        "INSERT INTO source_phrases (source_id, phrase_hash, phrase, count, first_seen) "
        "SELECT source_id, phrase_hash, phrase, count, first_seen FROM source_phrases_recent WHERE true "
        "ORDER BY source_id, phrase_hash "
        "ON CONFLICT (source_id, phrase_hash) DO UPDATE SET count = source_phrases.count + excluded.count, "
        "phrase = CASE WHEN excluded.phrase <> '' THEN excluded.phrase ELSE source_phrases.phrase END")).rowcount
    session.execute(text("DELETE FROM source_phrases_recent"))
    queries.count_up_meta(session, FOLD_GENERATION)
    return folded


def fold_if_due(factory: sessionmaker[Session], limit: int = RECENT_ROWS) -> int:
    """`fold`, in a transaction of its own, when the recent tier holds at least `limit` rows
    (`limit` 0: whenever it holds any); the rows folded.

    A fold that fails for the database's state (another writer held the lock past the timeout,
    the disk is full, the connection was lost) is logged and left for a later call: its
    transaction is rolled back and the counts stay in the recent tier, where they are read as
    well. So a run that failed for its database still records how it ended.
    """
    started = time.perf_counter()
    try:
        with factory() as session:
            if not staged(session):
                return 0
            held = session.execute(text("SELECT count(*) FROM source_phrases_recent")).scalar_one()
        if held == 0 or held < limit:
            return 0
        with factory() as session, session.begin():
            locks.lock_for_placement(session, [])
            folded = fold(session)
    except (sqlite3.Error, DBAPIError) as exc:  # locked past the timeout, disk full, connection lost
        log.warning("source phrases: the recent counts were not folded this time (%s); they stay readable", exc)
        return 0
    log.info("source phrases: %d recent counts folded in %.1f s", folded, time.perf_counter() - started)
    return folded


def _source_ids(session: Session, names: set[str]) -> dict[str, int]:
    return dict(session.execute(select(Source.name, Source.id).where(Source.name.in_(names))).all())
