"""Counts of edge phrases per source (table source_phrases), read and updated per batch."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from archive.db import bulk
from archive.db.models import Source, SourcePhrase, utcnow


def learned(session: Session, source_names: Iterable[str] | None, min_articles: int) -> dict[str, set[int]]:
    """source name -> keys of the phrases seen in at least `min_articles` of its articles
    (for the named sources, or every source when `source_names` is None)."""
    query = (select(Source.name, SourcePhrase.phrase_hash)
             .join(SourcePhrase, SourcePhrase.source_id == Source.id)
             .where(SourcePhrase.count >= min_articles))
    out: dict[str, set[int]] = {}
    if source_names is not None:
        names = sorted(set(source_names))
        out = {name: set() for name in names}
        if not names:
            return out
        query = query.where(Source.name.in_(names))
    for name, key in session.execute(query):
        out.setdefault(name, set()).add(key)
    return out


def count(session: Session, seen: dict[tuple[str, int], tuple[str, int]]) -> None:
    """Add article counts: (source name, phrase key) -> (phrase, articles it was seen in).

    Most edge phrases are seen once and never again, so a phrase's text is stored only once it is
    learned (`describe`); until then the row holds its key and count, and an empty text.
    """
    if not seen:
        return
    ids = _source_ids(session, {n for n, _ in seen})
    now = utcnow()
    rows = [(ids[name], key, "", n, now) for (name, key), (_, n) in sorted(seen.items()) if name in ids]
    if session.get_bind().dialect.name == "postgresql":
        # One statement per chunk of rows: executemany ran the upsert once per row on the server
        # (660,000 executions, 4.6 s of server time and more of the client's, in 60,000 articles).
        for part in bulk.chunks(rows):
            session.execute(_PG_COUNT, {"sources": [r[0] for r in part], "keys": [r[1] for r in part],
                                        "counts": [r[3] for r in part], "now": now})
        return
    bulk.execute_many(session, (
        "INSERT INTO source_phrases (source_id, phrase_hash, phrase, count, first_seen) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (source_id, phrase_hash) DO UPDATE SET count = source_phrases.count + excluded.count"), rows)


_PG_COUNT = text(
    "INSERT INTO source_phrases (source_id, phrase_hash, phrase, count, first_seen) "
    "SELECT s, h, '', n, :now FROM unnest(CAST(:sources AS integer[]), CAST(:keys AS bigint[]), "
    "CAST(:counts AS integer[])) AS t(s, h, n) "
    "ON CONFLICT (source_id, phrase_hash) DO UPDATE SET count = source_phrases.count + excluded.count")


def at_least(session: Session, pairs: list[tuple[str, int]], min_articles: int) -> list[tuple[str, int]]:
    """The (source name, phrase key) pairs among `pairs` counted in at least `min_articles` articles."""
    out: list[tuple[str, int]] = []
    wanted = set(pairs)
    by_source: dict[str, set[int]] = {}
    for name, key in pairs:
        by_source.setdefault(name, set()).add(key)
    for name, keyset in sorted(by_source.items()):
        keys = sorted(keyset)
        for start in range(0, len(keys), 5000):
            rows = session.execute(
                select(Source.name, SourcePhrase.phrase_hash)
                .join(SourcePhrase, SourcePhrase.source_id == Source.id)
                .where(Source.name == name, SourcePhrase.phrase_hash.in_(keys[start:start + 5000]),
                       SourcePhrase.count >= min_articles))
            out += [(n, k) for n, k in rows if (n, k) in wanted]
    return out


def describe(session: Session, learned: dict[tuple[str, int], str]) -> None:
    """Store the text of newly learned phrases: (source name, phrase key) -> phrase."""
    if not learned:
        return
    ids = _source_ids(session, {n for n, _ in learned})
    bulk.execute_many(session, "UPDATE source_phrases SET phrase = ? WHERE source_id = ? AND phrase_hash = ?",
                      [(phrase[:1000], ids[name], key) for (name, key), phrase in sorted(learned.items()) if name in ids])


def _source_ids(session: Session, names: set[str]) -> dict[str, int]:
    return dict(session.execute(select(Source.name, Source.id).where(Source.name.in_(names))).all())
