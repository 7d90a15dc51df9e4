"""Counts of edge phrases per source (table source_phrases), read and updated per batch."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
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


def count(session: Session, seen: dict[tuple[str, int], tuple[str, int]]) -> dict[tuple[str, int], int]:
    """Add article counts: (source name, phrase key) -> (phrase, articles it was seen in); return
    each pair's count after adding (pairs whose source is not stored are left out).

    Most edge phrases are seen once and never again, so a phrase's text is stored only once it is
    learned (`describe`); until then the row holds its key and count, and an empty text.
    """
    if not seen:
        return {}
    ids = _source_ids(session, {n for n, _ in seen})
    names = {source_id: name for name, source_id in ids.items()}
    rows = [(ids[name], key, n) for (name, key), (_, n) in sorted(seen.items()) if name in ids]
    added = bulk.add_phrase_counts(session, rows, utcnow())
    return {(names[source_id], key): total for source_id, key, total in added}


def describe(session: Session, learned: dict[tuple[str, int], str]) -> None:
    """Store the text of newly learned phrases: (source name, phrase key) -> phrase."""
    if not learned:
        return
    ids = _source_ids(session, {n for n, _ in learned})
    bulk.execute_many(session, "UPDATE source_phrases SET phrase = ? WHERE source_id = ? AND phrase_hash = ?",
                      [(phrase[:1000], ids[name], key) for (name, key), phrase in sorted(learned.items()) if name in ids])


def _source_ids(session: Session, names: set[str]) -> dict[str, int]:
    return dict(session.execute(select(Source.name, Source.id).where(Source.name.in_(names))).all())
