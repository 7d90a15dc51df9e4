"""Candidates read by the preparing workers from a snapshot, brought up to date by the one writer.

From about 100,000 articles on, a bulk ingest into SQLite is bound by its one writer while the
workers are half idle, and much of the writer's time went to reading each batch's candidates: the
copy LSH buckets, the articles of the same text, the event index's capped postings and the
candidates' memberships. A worker now reads those for the batch it prepared, in one read
transaction (`archive.db.snapshot`), and sends them with the batch as `Prefetched`, tagged with the
archive's mark at that snapshot.

By the time the writer places that batch it has committed a few more. It keeps what each of its
last batches indexed (`RecentIndex`), under the mark the archive had after it, so for a snapshot
taken at one of those marks it adds exactly what came since:

- copy buckets: the ids indexed since, after the snapshot's (both in id order);
- event postings, capped newest first: the ids indexed since go in front and the cap is applied
  again (ids only grow, so nothing older can be missing);
- same-text ids, the oldest few: the ids since go after the snapshot's, and the limit again;
- memberships: automatic placement never moves an article once placed, so a membership read in
  the snapshot still holds; the writer's own newer articles' come from its log.

A snapshot taken at a mark the writer did not leave itself (another process wrote in between, or
the writer's log no longer reaches back that far) is not used: the writer reads from the database
as it does without workers. Either way the placements are the same. On PostgreSQL, where several
processes write at once and ids are not committed in order, nothing is prefetched.
"""

from __future__ import annotations

import collections
import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from archive.core import ranking
from archive.db import bulk
from archive.db.snapshot import Mark, archive_mark
from archive.pipeline.fingerprint import Fingerprint

SAME_TEXT_LIMIT = 5  # archived articles of exactly the same text looked at
EVENT_LEVEL, EVENT_BAND = 1, 0  # where the event index keeps its terms in band_keys
_IDS = np.uint32
KEEP_BATCHES = 8  # batches the writer remembers: more than the batches a pool has in flight


@dataclasses.dataclass
class Prefetched:
    """What one prepared batch's placement reads, as of the snapshot at `mark`. Every key and
    hash asked is present, empty when nothing is indexed under it."""

    mark: Mark
    copy_postings: dict[tuple[int, int], list[int]]
    same_text: dict[str, list[int]]
    event_keys: np.ndarray  # int64, the terms asked
    event_offsets: np.ndarray  # int64, len(event_keys) + 1: where each term's ids start in event_ids
    event_ids: np.ndarray  # uint32, each term's newest `cap` ids, newest first
    memberships: dict[int, dict[str, int]]  # the likely candidates' clusters ({} for none)

    def event_postings(self) -> dict[int, np.ndarray]:
        starts, ids = self.event_offsets.tolist(), self.event_ids
        return {key: ids[starts[i]:starts[i + 1]] for i, key in enumerate(self.event_keys.tolist())}


def prefetch(session: Session, fps: Sequence[Fingerprint], cap: int, max_candidates: int) -> Prefetched:
    """Read in the session's snapshot what placing articles of these fingerprints will look up."""
    mark = archive_mark(session)
    copy_keys = {key for fp in fps for key in fp.copy_keys}
    found = bulk.postings(session, 0, copy_keys)
    copy_postings = {key: found.get(key, []) for key in copy_keys}
    hashes = {fp.text_hash for fp in fps}
    found_texts = bulk.texts_by_hash(session, hashes, SAME_TEXT_LIMIT)
    same_text = {digest: found_texts.get(digest, []) for digest in hashes}
    terms = sorted({key for fp in fps for _, key in fp.event_keys})
    capped = bulk.capped_postings(session, EVENT_LEVEL, EVENT_BAND, terms, cap)
    lists = [capped.get(key, ()) for key in terms]
    offsets = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum([len(ids) for ids in lists], out=offsets[1:])
    event_ids = np.fromiter((i for ids in lists for i in ids), dtype=_IDS, count=int(offsets[-1]))
    postings = {key: event_ids[offsets[i]:offsets[i + 1]] for i, key in enumerate(terms)}
    # Memberships of the candidates placement is likely to look at: each article's best by copy
    # bands and by event terms in this snapshot. The writer reads any others it needs.
    likely: set[int] = set()
    for fp in fps:
        likely.update(same_text[fp.text_hash])
        hits = Counter()
        for key in fp.copy_keys:
            hits.update(copy_postings[key])
        likely.update(ranking.top(hits, max_candidates))
        shared = [postings[key] for _, key in fp.event_keys]
        if shared:
            likely.update(ranking.most_shared(np.concatenate(shared), max_candidates))
    found_members = bulk.memberships(session, likely)
    memberships = {i: found_members.get(i, {}) for i in likely}
    return Prefetched(mark, copy_postings, same_text, np.array(terms, dtype=np.int64), offsets, event_ids,
                      memberships)


@dataclasses.dataclass
class Indexed:
    """What one committed batch of the writer added to what placement reads."""

    copy_postings: Mapping[tuple[int, int], list[int]]
    event_postings: Mapping[int, list[int]]  # ids in id order
    same_text: Mapping[str, list[int]]
    memberships: Mapping[int, dict[str, int]]


@dataclasses.dataclass
class Current:
    """Prefetched reads brought up to date: what the database would answer now."""

    copy_postings: dict[tuple[int, int], list[int]]
    same_text: dict[str, list[int]]
    event_postings: dict[int, np.ndarray]
    memberships: dict[int, dict[str, Any]]


class RecentIndex:
    """What this writer indexed in its last batches, each under the archive's mark after it."""

    def __init__(self, keep: int = KEEP_BATCHES):
        self.keep = keep
        self._log: collections.deque[tuple[int, Indexed]] = collections.deque()
        self._marks: dict[Mark, int] = {}  # mark -> number of the first batch logged after it
        self._count = 0
        self._last: Mark | None = None
        self.used = self.unusable = 0  # batches whose prefetched reads were, were not brought up to date

    def start(self, mark: Mark) -> None:
        """At a batch's start, under the write lock: forget everything if someone else wrote."""
        if mark != self._last:
            self._log.clear()
            self._marks = {mark: self._count}
            self._last = mark

    def record(self, indexed: Indexed, mark: Mark) -> None:
        """After the writer's batch (before it commits): what it indexed, and the mark it left."""
        self._log.append((self._count, indexed))
        self._count += 1
        self._marks[mark] = self._count
        self._last = mark
        while len(self._log) > self.keep:
            self._log.popleft()
        oldest = self._log[0][0] if self._log else self._count
        self._marks = {m: n for m, n in self._marks.items() if n >= oldest}

    def since(self, mark: Mark) -> list[Indexed] | None:
        """What was indexed after the archive was at `mark`; None when the log cannot tell."""
        first = self._marks.get(mark)
        if first is None:
            return None
        return [indexed for n, indexed in self._log if n >= first]

    def bring_up_to_date(self, prefetched: Sequence[Prefetched], cap: int) -> Current | None:
        """The union of the batches' prefetched reads as of now, or None if one cannot be used."""
        if not prefetched:
            return None
        later = [self.since(p.mark) for p in prefetched]
        if any(since is None for since in later):
            self.unusable += 1
            return None
        self.used += 1
        current = Current({}, {}, {}, {})
        for p, since in zip(prefetched, later):
            for key, ids in p.copy_postings.items():
                if key not in current.copy_postings:
                    added = [i for indexed in since for i in indexed.copy_postings.get(key, ())]
                    current.copy_postings[key] = ids + added if added else ids
            for digest, ids in p.same_text.items():
                if digest not in current.same_text:
                    added = [i for indexed in since for i in indexed.same_text.get(digest, ())]
                    current.same_text[digest] = (ids + added)[:SAME_TEXT_LIMIT] if added else ids
            for key, ids in p.event_postings().items():
                if key not in current.event_postings:
                    added = [i for indexed in since for i in indexed.event_postings.get(key, ())]
                    if added:
                        newest = np.array(added[::-1][:cap], dtype=_IDS)
                        ids = np.concatenate([newest, ids])[:cap]
                    current.event_postings[key] = ids
            for article_id, clusters in p.memberships.items():
                current.memberships.setdefault(article_id, dict(clusters))
            for indexed in since:
                for article_id, clusters in indexed.memberships.items():
                    current.memberships.setdefault(article_id, dict(clusters))
        return current
