"""The event index's capped postings, kept between batches by the one process writing an SQLite archive.

Every batch reads, for each salient term of its articles, the `cap` newest articles indexed under
it (`archive.db.bulk.capped_postings`). Frequent terms come back batch after batch, so the writer
keeps what it read, adds its own new articles to it after each write, and reads only the terms it
has not seen. That is only right while nobody else changes the index: before each batch, under
SQLite's write lock, a mark of the index is compared with the one this writer left after its own
last write, and the cache is emptied when another writer moved it. The mark is the largest
article id (another ingest or a crawl adds articles with their keys, and ids only grow since
articles are never deleted) and the index generation `archive check --repair` counts up when it
rewrites keys. On PostgreSQL, where several workers write at once and ids are not committed in
order, nothing is kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from archive.db import bulk, queries

# Terms kept: each an array of at most `cap` ids (uint32, as the ranking assumes: 400 bytes at cap
# 100, plus about 200 of array header and dictionary entry), so about 30 MB at most. 100,000 terms
# before the read-ahead (`archive.pipeline.readahead`); since, the terms a batch misses here are
# read by its thread beforehand, off the writer's thread, so half of them cost the writer little
# and keep it under the 1 GiB of a 1,000,000-article ingest.
CACHE_TERMS = 50_000
_IDS = np.uint32
_EMPTY = np.empty(0, dtype=_IDS)


class EventPostings:
    def __init__(self, cap: int, level: int = 1, band: int = 0, max_terms: int = CACHE_TERMS):
        self.cap, self.level, self.band, self.max_terms = cap, level, band, max_terms
        self._terms: OrderedDict[int, np.ndarray] = OrderedDict()
        self._mark: tuple | None = None  # the index's mark after this writer's last batch

    @property
    def mark(self) -> tuple | None:
        """The index's mark as this writer last saw it (SQLite; None before the first batch)."""
        return self._mark

    def read(self, session: Session, keys: Iterable[int],
             ahead: Mapping[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
        """key -> ids newest first (at most `cap`; empty when none), for every key asked; `ahead`
        holds keys' postings read ahead and brought up to this batch (`archive.pipeline.readahead`)."""
        if session.get_bind().dialect.name != "sqlite":
            return self._from_database(session, set(keys))
        mark = index_mark(session)
        if mark != self._mark:  # someone else wrote to the index (or this is the first batch)
            self._terms.clear()
            self._mark = mark
        out, missing = {}, []
        for key in set(keys):
            ids = self._terms.get(key)
            if ids is not None:
                self._terms.move_to_end(key)
            elif ahead is not None and (ids := ahead.get(key)) is not None:
                self._keep(key, ids)
            else:
                missing.append(key)
                continue
            out[key] = ids
        found = self._from_database(session, missing)
        for key, ids in found.items():
            self._keep(key, ids)
        out.update(found)
        return out

    def added(self, session: Session, new_ids: Mapping[int, Sequence[int]]) -> None:
        """After this writer indexed `new_ids` (key -> ids in the order written): put them in front."""
        if session.get_bind().dialect.name != "sqlite":
            return
        for key, ids in new_ids.items():
            cached = self._terms.get(key)
            if cached is not None:
                newest = np.array(ids[::-1][: self.cap], dtype=_IDS)
                self._terms[key] = np.concatenate([newest, cached])[: self.cap]
        self._mark = index_mark(session)

    def read_uncached(self, session: Session, keys: Iterable[int]) -> dict[int, np.ndarray]:
        """`read` from the database of the keys not kept here, keeping nothing: the read-ahead
        thread's part, which only looks at what the writer's thread keeps."""
        return self._from_database(session, [key for key in set(keys) if key not in self._terms], at_once=True)

    def _from_database(self, session: Session, keys: Sequence[int] | set[int],
                       at_once: bool = False) -> dict[int, np.ndarray]:
        if not keys:
            return {}
        found = bulk.capped_postings(session, self.level, self.band, keys, self.cap, at_once)
        return {key: np.array(found[key], dtype=_IDS) if key in found else _EMPTY for key in keys}

    def _keep(self, key: int, ids: np.ndarray) -> None:
        self._terms[key] = ids
        if len(self._terms) > self.max_terms:
            self._terms.popitem(last=False)


def index_mark(session: Session) -> tuple:
    """(largest article id, index generation): moves whenever anybody adds keys or rewrites them."""
    # Every writer adds an article's keys in the transaction that adds the article, so the
    # largest article id (one seek in the primary key) moves whenever the index grows.
    return tuple(session.execute(text(
        "SELECT (SELECT coalesce(max(id), 0) FROM articles), "
        "(SELECT value FROM archive_meta WHERE key = :key)"), {"key": queries.INDEX_GENERATION}).one())
