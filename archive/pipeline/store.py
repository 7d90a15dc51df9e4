"""Place fingerprinted articles in the archive: match, cluster and write, in the caller's transaction.

`Placer.place_batch` is the one placement function (a single article is a batch of one). It reads
what the batch needs in a few statements (duplicates, copy LSH buckets, exact text hashes, the
event index read newest first with a cap per term, memberships, clusters), decides each article's
placement in memory in input order, and writes the batch with multi-row statements. Articles of
the batch are candidates for the ones after them, so two copies in one batch end in one cluster.

Matching: copy candidates come from the persistent LSH index (level 0) and the exact text hash;
each is verified on actual shingles (`archive.core.matching.is_copy`) against the original of its
copy cluster, so a copy cluster never grows by chaining through its members. An article that is a
copy joins that copy cluster and its event. Otherwise it opens a copy cluster of its own and looks
for an event: candidates from the event index (level 1) and from the copy candidates, scored by
average linkage with each event's members (`archive.core.events.event_score`: not against single
members, which would chain), within the publication window.

Automatic runs only add articles; they never move one that is already placed, so manual
decisions (`archive merge`, `split`, `detach`) stay as they were made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import operator
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.core import events, headline, matching, sketch
from archive.db import bandindex, bulk, locks
from archive.db.models import (
    COPY,
    COPY_ROLE,
    EVENT,
    MEMBER,
    ORIGINAL,
    Article,
    BandKey,
    Cluster,
    ClusterHistory,
    ClusterMember,
    RawDocument,
    utcnow,
)
from archive.pipeline import readahead
from archive.pipeline.extract import Document
from archive.pipeline.postings import EventPostings, index_mark
from archive.pipeline.raw import compress

if TYPE_CHECKING:
    from archive.pipeline.batch import Prepared

_SHINGLE_CACHE = 16384  # shingle sets of originals copies were checked against: ~2 KB each, ~35 MB
_SKETCH_CACHE = 16384  # 512-byte signatures of recent copy clusters' originals: about 12 MB
# Centroids of recently read or written events, by (updated_at, size). Events near the newest
# articles are read by batch after batch; decoding their JSON again each time was a tenth of the
# writer's time. A centroid holds up to `centroid_terms` terms and 100 names at about 120 bytes
# a term as a dict, so the cache is bounded by terms, not events: a count bound let it grow with
# the events' sizes (88 MB for 8,192 events of 90 terms at 40,000 articles, more as events grow).
_CENTROID_CACHE_TERMS = 400_000  # about 48 MB
_SAME_TEXT_LIMIT = 5
_HEADLINE_CACHE = 4096  # (title, stray body) of originals that stray-bodied articles were checked against


@dataclasses.dataclass
class Outcome:
    status: str  # new, copy, duplicate
    article_id: int | None = None
    copy_cluster: int | None = None
    event_cluster: int | None = None
    new_event: bool = False


def article_url(doc: Document) -> str:
    if doc.url:
        return doc.url
    fields = doc.fields or {}
    if fields.get("id") is not None:
        return f"urn:record:{doc.source or 'jsonl'}:{fields['id']}"
    return f"urn:sha256:{doc.sha256}"


def placement_keys(batch: Sequence["Prepared"]) -> list[int | str]:
    """What placing these articles looks up, for `archive.db.locks.lock_for_placement`."""
    keys: list[int | str] = []
    for p in batch:
        keys += [key for _, key in p.fp.copy_keys] + [key for _, key in p.fp.event_keys]
        keys += [p.sha256, article_url(p.doc)]
    return keys


@dataclasses.dataclass(eq=False)
class _Cluster:
    """A cluster as placement sees it during one batch: loaded from the database or new."""

    kind: str
    representative_id: int
    id: int | None = None
    event_id: int | None = None
    event: "_Cluster | None" = None
    size: int = 1
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    first_published: dt.datetime | None = None
    last_published: dt.datetime | None = None
    original_reason: str | None = None
    centroid: dict[str, float] | None = None
    centroid_read: bool = True  # False: an archived event whose centroid is not read yet (`_centroid_of`)
    updated_at: dt.datetime | None = None
    is_new: bool = False
    dirty: bool = False
    members: list[matching.Candidate] | None = None  # copy clusters, loaded when one joins
    stored_roles: dict[int, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(eq=False)
class _Article:
    """One article of the batch that is not a duplicate, with what placement decides for it."""

    index: int
    prepared: "Prepared"
    url: str
    source_name: str | None
    id: int = 0
    copy_cluster: _Cluster | None = None
    event_cluster: _Cluster | None = None
    outcome: Outcome | None = None
    db_band_hits: Counter | None = None  # candidates from the archive, counted once per batch
    db_event_ids: np.ndarray | None = None

    @property
    def fp(self):
        return self.prepared.fp

    @property
    def published_at(self) -> dt.datetime | None:
        return self.prepared.extracted.published_at

    @property
    def fetched_at(self) -> dt.datetime:
        return self.prepared.doc.fetched_at or self._now

    def candidate(self) -> matching.Candidate:
        ex = self.prepared.extracted
        return matching.Candidate(self.id, ex.published_at, self.fetched_at, ex.attribution, self.source_name,
                                  ex.canonical_url, self.url)

    _now: dt.datetime = dataclasses.field(default_factory=utcnow)


@dataclasses.dataclass
class AheadReads:
    """A batch's postings read from the archive before its placement (`archive.pipeline.readahead`),
    in one snapshot whose index mark they keep."""

    mark: tuple
    copy_postings: dict[tuple[int, int], list[int]]
    same_text: dict[str, list[int]]
    event_postings: dict[int, np.ndarray]  # only the terms the writer did not keep when they were read


@dataclasses.dataclass
class _Written:
    """The postings the placer's last batch wrote, and the index marks before and after it."""

    before: tuple
    after: tuple
    copy_postings: dict[tuple[int, int], list[int]]
    same_text: dict[str, list[int]]
    event_postings: dict[int, list[int]]


class Placer:
    """Matches and writes articles; keeps a small cache of candidates' shingle sets."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.config = settings.matching
        self._shingles: OrderedDict[int, np.ndarray] = OrderedDict()
        self._sketches: OrderedDict[int, tuple[np.ndarray, int]] = OrderedDict()
        self._centroids: OrderedDict[int, tuple[tuple, dict[str, float] | None]] = OrderedDict()
        self._centroid_terms = 0  # terms held by the cached centroids
        self._headlines: OrderedDict[int, tuple[str | None, bool]] = OrderedDict()
        self._sources: dict[str, int] = {}
        self.event_postings = EventPostings(settings.event_sketch.bucket_limit)
        self._written: _Written | None = None  # SQLite: what the last batch added to the index

    def read_ahead(self, factory: sessionmaker[Session], batch: Sequence["Prepared"]) -> AheadReads | None:
        """The postings `batch`'s placement will read, read now in one snapshot of their own (a
        transaction of a session of `factory`); called from the read-ahead thread, it changes
        nothing the placer keeps. None on PostgreSQL, whose writers do not commit ids in order."""
        if factory.kw["bind"].dialect.name != "sqlite":
            return None
        with readahead.snapshot(factory) as session:
            return AheadReads(
                index_mark(session),
                bulk.postings(session, 0, {k for p in batch for k in p.fp.copy_keys}, at_once=True),
                bulk.texts_by_hash(session, {p.fp.text_hash for p in batch}, _SAME_TEXT_LIMIT, at_once=True),
                self.event_postings.read_uncached(session, {k for p in batch for _, k in p.fp.event_keys}))

    def reads_ahead_for(self, session: Session, ahead: AheadReads | None) -> AheadReads | None:
        """`ahead` brought up to the archive as the caller's transaction sees it: unchanged when
        nothing was added since it was read, with this placer's last batch added when it was read
        just before that batch was committed, and None (read them again) in any other case."""
        if ahead is None:
            return None
        mark = index_mark(session)
        if ahead.mark == mark:
            return ahead
        last = self._written
        if last is None or last.after != mark or last.before != ahead.mark:
            return None  # another writer added or rewrote keys, or the last batch was rolled back
        copy_postings = dict(ahead.copy_postings)
        for key, ids in last.copy_postings.items():
            copy_postings[key] = copy_postings.get(key, []) + ids
        same_text = dict(ahead.same_text)
        for digest, ids in last.same_text.items():  # the oldest first, as the database returns them
            same_text[digest] = (same_text.get(digest, []) + ids)[:_SAME_TEXT_LIMIT]
        cap = self.event_postings.cap
        event_postings = dict(ahead.event_postings)
        for key, ids in ahead.event_postings.items():
            newest = last.event_postings.get(key)
            if newest:
                event_postings[key] = np.concatenate([np.array(newest[::-1][:cap], dtype=ids.dtype), ids])[:cap]
        return AheadReads(mark, copy_postings, same_text, event_postings)

    def _remember_shingles(self, article_id: int, shingles: np.ndarray) -> None:
        self._shingles[article_id] = shingles
        if len(self._shingles) > _SHINGLE_CACHE:
            self._shingles.popitem(last=False)

    def _remember_sketch(self, article_id: int, signature: np.ndarray, shingle_count: int) -> None:
        self._sketches[article_id] = (signature, shingle_count)
        if len(self._sketches) > _SKETCH_CACHE:
            self._sketches.popitem(last=False)

    def _remember_headline(self, article_id: int, title: str | None, stray: bool) -> None:
        self._headlines[article_id] = (title, stray)
        if len(self._headlines) > _HEADLINE_CACHE:
            self._headlines.popitem(last=False)

    def _remember_centroid(self, cluster_id: int, version: tuple, centroid: dict[str, float] | None) -> None:
        previous = self._centroids.pop(cluster_id, None)
        if previous is not None:
            self._centroid_terms -= len(previous[1] or ())
        self._centroids[cluster_id] = (version, centroid)
        self._centroid_terms += len(centroid or ())
        while self._centroid_terms > _CENTROID_CACHE_TERMS and len(self._centroids) > 1:
            _, (_, evicted) = self._centroids.popitem(last=False)
            self._centroid_terms -= len(evicted or ())

    def _cached_centroid(self, cluster_id: int, version: tuple) -> tuple[bool, dict[str, float] | None]:
        """(found, centroid): found only when the cluster's row is unchanged since it was cached."""
        cached = self._centroids.get(cluster_id)
        if cached is None or cached[0] != version:
            return False, None
        self._centroids.move_to_end(cluster_id)
        return True, cached[1]

    def place_batch(self, session: Session, batch: Sequence["Prepared"], run_id: int | None,
                    timings: dict[str, float] | None = None, ahead: AheadReads | None = None) -> list[Outcome]:
        """Match, cluster and write a batch in the caller's transaction; one outcome per input.
        `ahead`: the batch's postings read ahead (`read_ahead`), used where still right."""
        timings = {} if timings is None else timings
        t0 = time.process_time()
        locks.lock_for_placement(session, placement_keys(batch))
        outcomes: list[Outcome | None] = [None] * len(batch)
        fresh = self._drop_duplicates(session, batch, outcomes)
        if fresh:
            placement = _BatchPlacement(self, session, fresh)
            placement.look_up(self.reads_ahead_for(session, ahead))
            t1 = time.process_time()
            self._insert_articles(session, fresh, run_id)
            t2 = time.process_time()
            placement.decide()
            t3 = time.process_time()
            placement.write()
            t4 = time.process_time()
            _add(timings, "candidates", t1 - t0)
            _add(timings, "place", t3 - t2)
            _add(timings, "write", (t2 - t1) + (t4 - t3))
            for article in fresh:
                outcomes[article.index] = article.outcome
        else:
            _add(timings, "candidates", time.process_time() - t0)
        return outcomes  # type: ignore[return-value]

    def _drop_duplicates(self, session: Session, batch: Sequence["Prepared"],
                         outcomes: list[Outcome | None]) -> list[_Article]:
        """Inputs whose bytes or URL are archived (or came earlier in the batch) are duplicates."""
        urls = [article_url(p.doc) for p in batch]
        seen_sha = bulk.existing(session, RawDocument.sha256, [p.sha256 for p in batch])
        seen_url = bulk.existing(session, Article.url, urls)
        fresh = []
        for index, (prepared, url) in enumerate(zip(batch, urls)):
            if prepared.sha256 in seen_sha or url in seen_url:
                outcomes[index] = Outcome("duplicate")
                continue
            seen_sha.add(prepared.sha256)
            seen_url.add(url)
            fresh.append(_Article(index, prepared, url, prepared.source))
        return fresh

    def _insert_articles(self, session: Session, fresh: list[_Article], run_id: int | None) -> None:
        kinds: dict[str, str] = {}
        for a in fresh:
            if a.source_name and a.source_name not in kinds:
                doc = a.prepared.doc
                kinds[a.source_name] = "file" if not doc.url or doc.url.startswith("file:") else "web"
        sources = bulk.source_ids(session, kinds, self._sources)
        raw_rows = []
        for a in fresh:
            doc = a.prepared.doc
            content, compression = a.prepared.stored or compress(doc.content)
            raw_rows.append({
                "sha256": a.prepared.sha256, "location": doc.location, "media_type": doc.media_type,
                "encoding": a.prepared.extracted.encoding, "status_code": doc.status_code, "headers": doc.headers,
                "size": len(doc.content) if a.prepared.raw_size is None else a.prepared.raw_size,
                "compression": compression, "content": content,
                "received_at": a.fetched_at,
            })
        raw_ids = bulk.insert_returning_ids(session, RawDocument, raw_rows)
        rows = []
        for a, raw_id in zip(fresh, raw_ids):
            ex, fp = a.prepared.extracted, a.fp
            rows.append({
                "source_id": sources.get(a.source_name) if a.source_name else None, "raw_document_id": raw_id,
                "run_id": run_id, "url": a.url, "canonical_url": ex.canonical_url, "title": ex.title,
                "byline": ex.byline, "attribution": ex.attribution, "published_at": ex.published_at,
                "fetched_at": a.fetched_at, "language": fp.language, "clean_text": ex.text,
                "text_hash": fp.text_hash, "shingle_count": int(fp.shingles.size),
                "signature": sketch.signature_bytes(fp.signature),
                "shingles": sketch.shingles_bytes(fp.shingles), "event_terms": fp.event_terms,
                "removed": [{"rule": r.rule, "text": r.text} for r in ex.removed],
            })
        for a, article_id in zip(fresh, bulk.insert_returning_ids(session, Article, rows)):
            a.id = article_id


class _BatchPlacement:
    """The state of one batch's placement: what was read, what was decided, what to write."""

    def __init__(self, placer: Placer, session: Session, fresh: list[_Article]):
        self.placer = placer
        self.session = session
        self.fresh = fresh
        self.config = placer.config
        self.cap = placer.settings.event_sketch.bucket_limit
        # read from the database
        self.db_copy_postings: dict[tuple[int, int], list[int]] = {}
        self.db_event_postings: dict[int, np.ndarray] = {}
        self.db_same_text: dict[str, list[int]] = {}
        self.member_of: dict[int, dict[str, Any]] = {}  # article id -> {"copy": _Cluster | id, ...}
        self.clusters: dict[int, _Cluster] = {}
        # articles of this batch, once placed
        self.batch_copy_postings: dict[tuple[int, int], list[int]] = {}
        self.batch_event_postings: dict[int, list[int]] = {}
        self.batch_same_text: dict[str, list[int]] = {}
        self.batch_articles: dict[int, _Article] = {}  # by id, once inserted
        # what to write
        self.new_clusters: list[_Cluster] = []
        self.member_rows: list[dict[str, Any]] = []
        self.history_rows: list[dict[str, Any]] = []
        self.mark_before: tuple | None = None  # the index's mark when the batch was looked up (SQLite)

    # -- reading ------------------------------------------------------------------------------

    def look_up(self, ahead: AheadReads | None = None) -> None:
        """Read candidates, their memberships, clusters and originals' texts for the whole batch
        (the postings from `ahead` when they were read ahead, see `Placer.reads_ahead_for`)."""
        s = self.session
        if ahead is None:
            self.db_copy_postings = bulk.postings(s, 0, {k for a in self.fresh for k in a.fp.copy_keys})
            self.db_same_text = bulk.texts_by_hash(s, {a.fp.text_hash for a in self.fresh}, _SAME_TEXT_LIMIT)
        else:
            self.db_copy_postings, self.db_same_text = ahead.copy_postings, ahead.same_text
        self.db_event_postings = self.placer.event_postings.read(
            s, {k for a in self.fresh for _, k in a.fp.event_keys}, ahead.event_postings if ahead else None)
        self.mark_before = self.placer.event_postings.mark
        wanted = [(a, self._copy_candidates(a, ranked), self._event_candidates(a, ranked))
                  for a, ranked in ((a, self._ranked(a)) for a in self.fresh)]
        # An article looks at its candidates' first `max_event_candidates` distinct events, which
        # its best dozen or so candidates usually give: their memberships are read for the whole
        # batch at once, the rest only for the articles that need them (a second query).
        head = _EVENT_HEAD * self.config.max_event_candidates
        self._load_memberships({i for _, copy_ids, event_ids in wanted for i in copy_ids + event_ids[:head]},
                               with_clusters=False)
        self._load_memberships({i for a, _, event_ids in wanted for i in self._unread_event_candidates(a, event_ids)},
                               with_clusters=False)
        clusters, first_events = set(), []
        for a, copy_ids, event_ids in wanted:  # the clusters decide() will look at, read at once
            clusters.update(self.member_of[i].get(COPY) for i in copy_ids)
            first = self._first_event_keys(a, event_ids)
            first_events.append((a, first))
            clusters.update(first)
        clusters.discard(None)
        self._load_clusters(clusters)
        copies = [c for c in self.clusters.values() if c.kind == COPY]
        self._load_clusters({c.event_id for c in copies if c.event_id})
        # Centroids only of the events an article of the batch may join on its terms: on a large
        # archive most candidates' events lie outside the publication window (a rare term's
        # postings reach far back), and a copy's event is read only when a copy joins it.
        window = self.config.event_window_days
        self._read_centroids(event for a, first in first_events for event in map(self.clusters.get, first)
                             if event is not None and matching.within_window(a.published_at, event.first_published,
                                                                             window))
        self._load_sketches({c.representative_id for c in copies})
        # The shingle sets of the originals the batch's copy checks will need, read in one query.
        needed = set()
        for a, copy_ids, _ in wanted:
            for article_id in copy_ids:
                cluster = self.clusters.get(self.member_of[article_id].get(COPY))
                rep = cluster.representative_id if cluster else None
                if rep is not None and rep in self.placer._sketches and self._may_copy(a, rep):
                    needed.add(rep)
        self._load_shingles(needed)

    def _load_memberships(self, article_ids, with_clusters: bool = True) -> None:
        missing = [i for i in article_ids if i not in self.member_of]
        found = bulk.memberships(self.session, missing)
        for article_id in missing:
            self.member_of[article_id] = dict(found.get(article_id, {}))
        if with_clusters:
            self._load_clusters({cid for m in found.values() for cid in m.values()})

    def _load_clusters(self, cluster_ids) -> None:
        """Read clusters' rows; an event's centroid comes from the placer's cache while the row's
        (updated_at, size) shows nobody changed it since, else from the database when first
        needed (`_centroid_of`)."""
        missing = [i for i in cluster_ids if i not in self.clusters]
        if not missing:
            return
        for cid, row in bulk.clusters(self.session, missing).items():
            cluster = _Cluster(
                kind=row["kind"], representative_id=row["representative_id"], id=cid, event_id=row["event_id"],
                size=row["size"], first_seen=row["first_seen"], last_seen=row["last_seen"],
                first_published=row["first_published"], last_published=row["last_published"],
                original_reason=row["original_reason"], updated_at=row["updated_at"],
            )
            self.clusters[cid] = cluster
            if cluster.kind == EVENT:
                cluster.centroid_read, cluster.centroid = self.placer._cached_centroid(cid, _version(cluster))

    def _read_centroids(self, clusters) -> None:
        """Read the centroids of these events that are not read yet, in one query."""
        unread = list({c.id: c for c in clusters if not c.centroid_read}.values())
        if not unread:
            return
        stored = bulk.centroids(self.session, [c.id for c in unread])
        for cluster in unread:
            cluster.centroid, cluster.centroid_read = stored.get(cluster.id), True
            self.placer._remember_centroid(cluster.id, _version(cluster), cluster.centroid)

    def _centroid_of(self, cluster: _Cluster) -> dict[str, float] | None:
        self._read_centroids([cluster])
        return cluster.centroid

    def _load_shingles(self, article_ids) -> None:
        cache = self.placer._shingles
        missing = [i for i in article_ids if i is not None and i not in cache]
        for article_id, shingles in bulk.shingle_sets(self.session, missing, self.placer.settings.sketch).items():
            self.placer._remember_shingles(article_id, shingles)

    def _load_sketches(self, article_ids) -> None:
        cache = self.placer._sketches
        missing = [i for i in article_ids if i is not None and i not in cache]
        for article_id, (signature, count) in bulk.sketches(self.session, missing).items():
            self.placer._remember_sketch(article_id, sketch.signature_from_bytes(signature), count or 0)

    def _sketch_of(self, article_id: int) -> tuple[np.ndarray, int]:
        cached = self.placer._sketches.get(article_id)
        if cached is None:
            self._load_sketches([article_id])
            cached = self.placer._sketches[article_id]
        self.placer._sketches.move_to_end(article_id)
        return cached

    def _may_copy(self, a: _Article, rep: int) -> bool:
        rep_signature, rep_size = self._sketch_of(rep)
        return matching.may_be_copy(a.fp.signature, a.fp.shingles.size, rep_signature, rep_size, self.config)

    def _shingles_of(self, article_id: int) -> np.ndarray:
        cached = self.placer._shingles.get(article_id)
        if cached is None:
            self._load_shingles([article_id])
            cached = self.placer._shingles[article_id]
        self.placer._shingles.move_to_end(article_id)
        return cached

    def _headline_of(self, article_id: int) -> tuple[str | None, bool]:
        """(title, stray body) of an article: this batch's from its fingerprint, the archive's read once."""
        mine = self.batch_articles.get(article_id)
        if mine is not None:
            return mine.prepared.extracted.title, mine.fp.stray_body
        if article_id not in self.placer._headlines:
            for found, title, text in bulk.titles_and_texts(self.session, [article_id]):
                self.placer._remember_headline(found, title, headline.stray_body(title, text or ""))
        return self.placer._headlines.get(article_id, (None, False))

    def _cluster_of(self, article_id: int, kind: str) -> _Cluster | None:
        if article_id not in self.member_of:
            self._load_memberships([article_id])
        value = self.member_of[article_id].get(kind)
        if value is None or isinstance(value, _Cluster):
            return value
        if value not in self.clusters:
            self._load_clusters([value])
        return self.clusters.get(value)

    # -- candidates (the batch's earlier articles, newest first, before the archive's) ---------

    def _same_text(self, a: _Article) -> list[int]:
        digest = a.fp.text_hash
        return (self.batch_same_text.get(digest, []) + self.db_same_text.get(digest, []))[:_SAME_TEXT_LIMIT]

    def _band_hits(self, a: _Article) -> Counter:
        """Shared copy-LSH bands per candidate: the archive's (counted once) plus the batch's."""
        if a.db_band_hits is None:
            a.db_band_hits = Counter()
            for key in a.fp.copy_keys:
                a.db_band_hits.update(self.db_copy_postings.get(key, ()))
        extra = [i for key in a.fp.copy_keys for i in self.batch_copy_postings.get(key, ())]
        if not extra:
            return a.db_band_hits
        hits = a.db_band_hits.copy()
        hits.update(extra)
        return hits

    def _event_ranked(self, a: _Article, limit: int) -> list[int]:
        """The `limit` candidates sharing the most event terms, each term's postings newest first
        and capped (the batch's articles before the archive's), ties to the newest."""
        parts = []
        for _, key in a.fp.event_keys:
            newest = self.batch_event_postings.get(key)
            if newest:
                parts.append(np.array(newest[-self.cap:], dtype=np.uint32))  # as the archive's postings
                if len(newest) < self.cap and key in self.db_event_postings:
                    parts.append(self.db_event_postings[key][:self.cap - len(newest)])
        if not parts:  # nothing from this batch: the archive's postings, gathered once
            if a.db_event_ids is None:
                found = [self.db_event_postings[k] for _, k in a.fp.event_keys if k in self.db_event_postings]
                a.db_event_ids = np.concatenate(found) if found else np.empty(0, dtype=np.uint32)
            return _most_shared(a.db_event_ids, limit)
        parts += [self.db_event_postings[k] for _, k in a.fp.event_keys
                  if k in self.db_event_postings and k not in self.batch_event_postings]
        return _most_shared(np.concatenate(parts), limit)

    def _ranked(self, a: _Article) -> tuple[list[int], list[int]]:
        """(most shared copy bands, most shared event terms): the `max_candidates` best of each."""
        limit = self.config.max_candidates
        return _top(self._band_hits(a), limit), self._event_ranked(a, limit)

    def _copy_candidates(self, a: _Article, ranked: tuple[list[int], list[int]]) -> list[int]:
        # A padded reprint (a short text inside a long page) has a low Jaccard that the LSH bands
        # miss, but shares the original's salient terms: the best term matches are verified too.
        by_bands, by_terms = ranked
        by_terms = [i for i in by_terms[: self.config.copy_term_candidates] if i != a.id]
        return self._same_text(a) + by_bands + by_terms

    def _event_candidates(self, a: _Article, ranked: tuple[list[int], list[int]]) -> list[int]:
        by_bands, by_terms = ranked
        return by_terms + [i for i in by_bands[: self.config.max_candidates - 1] if i != a.id]

    # -- deciding -----------------------------------------------------------------------------

    def decide(self) -> None:
        self.batch_articles = {a.id: a for a in self.fresh}
        for a in self.fresh:
            ranked = self._ranked(a)
            match = self._find_copy(a, ranked)
            if match:
                cluster, rep, ov = match
                self._join_copy(cluster, a, rep, ov)
                self._join_event(cluster.event, a, 1.0, {"via": "copy", "copy_cluster": cluster})
                a.copy_cluster, a.event_cluster = cluster, cluster.event
                a.outcome = Outcome("copy")
            else:
                copy_cluster = self._new_cluster(COPY, a, "first of its text")
                copy_cluster.members = [a.candidate()]
                self._member(copy_cluster, a, None, 1.0, None, {"reason": "first of its text"})
                event_match = self._find_event(a, ranked)
                if event_match:
                    event_cluster, score = event_match
                    self._join_event(event_cluster, a, score, {"via": "terms"})
                else:
                    event_cluster = self._new_cluster(EVENT, a, None)
                    event_cluster.centroid = dict(a.fp.event_terms)
                    self._member(event_cluster, a, MEMBER, 1.0, None, {"reason": "first of its event"})
                copy_cluster.event = event_cluster
                a.copy_cluster, a.event_cluster = copy_cluster, event_cluster
                a.outcome = Outcome("new", new_event=event_match is None)
            self._index(a)

    def _index(self, a: _Article) -> None:
        """Make a placed article a candidate for the rest of the batch."""
        self.batch_same_text.setdefault(a.fp.text_hash, []).append(a.id)
        for key in a.fp.copy_keys:
            self.batch_copy_postings.setdefault(key, []).append(a.id)
        for _, key in a.fp.event_keys:
            self.batch_event_postings.setdefault(key, []).append(a.id)
        self.member_of[a.id] = {COPY: a.copy_cluster, EVENT: a.event_cluster}
        if a.copy_cluster.representative_id == a.id:  # copies are checked against originals only
            self.placer._remember_shingles(a.id, a.fp.shingles)
            self.placer._remember_sketch(a.id, a.fp.signature, int(a.fp.shingles.size))

    def _find_copy(self, a: _Article, ranked) -> tuple[_Cluster, int, matching.Overlap] | None:
        """(copy cluster, matched original, overlap) of the best verified copy match, or None."""
        ids = self._copy_candidates(a, ranked)
        clusters = list(dict.fromkeys(c for c in (self._cluster_of(i, COPY) for i in ids) if c is not None))
        best = None
        for cluster in clusters[: self.config.max_candidates]:
            rep = cluster.representative_id
            if rep is None:
                continue
            if not self._may_copy(a, rep):
                continue
            ov = matching.overlap(a.fp.shingles, self._shingles_of(rep))
            if not matching.is_copy(ov, self.config):
                continue
            # Only a verified copy of a stray body reads the original's headline (a query, rarely).
            if a.fp.stray_body and headline.bars_copy(a.prepared.extracted.title, True, *self._headline_of(rep)):
                continue
            if best is None or matching.copy_score(ov) > matching.copy_score(best[2]):
                best = (cluster, rep, ov)
        if best and best[0].event is None:
            best[0].event = self._cluster_by_id(best[0].event_id)
        return best

    def _cluster_by_id(self, cluster_id: int) -> _Cluster:
        self._load_clusters([cluster_id])
        return self.clusters[cluster_id]

    def _find_event(self, a: _Article, ranked) -> tuple[_Cluster, float] | None:
        ids = self._event_candidates(a, ranked)
        if not ids or not a.fp.event_terms:
            return None
        best = None
        window = self.config.event_window_days
        events_in_window = [c for c in self._first_events(a, ids)
                            if matching.within_window(a.published_at, c.first_published, window)]
        self._read_centroids(events_in_window)
        for cluster in events_in_window:
            score = matching.event_match(a.fp.event_terms, cluster.centroid or {}, cluster.size, self.config,
                                         language=a.fp.language)
            if score is not None and (best is None or score > best[1]):
                best = (cluster, score)
        return best

    def _first_events(self, a: _Article, ids: list[int]) -> list[_Cluster]:
        """The first `max_event_candidates` distinct events of the candidates, read in one query."""
        first = self._first_event_keys(a, ids)
        self._load_clusters([c for c in first if not isinstance(c, _Cluster)])
        clusters = (c if isinstance(c, _Cluster) else self.clusters.get(c) for c in first)
        return list(dict.fromkeys(c for c in clusters if c is not None))

    def _first_event_keys(self, a: _Article, ids: list[int]) -> list:
        """The first `max_event_candidates` distinct events of candidates `ids` (not `a` itself):
        an archived event's id, or the _Cluster of one new in this batch.

        An archived event is named by its id through archived articles and by its _Cluster
        through the batch's articles that joined it: one key for both, so it takes one of the
        places and the result does not depend on where batches end. Memberships not read yet
        are read on the way, those of all the remaining candidates at once."""
        keys, at = self._walk_events(a, ids)
        if at == len(ids):
            return keys
        self._load_memberships([i for i in ids[at:] if i not in self.member_of], with_clusters=False)
        return self._walk_events(a, ids)[0]

    def _unread_event_candidates(self, a: _Article, ids: list[int]) -> list[int]:
        """The candidates from the first one whose membership `_first_event_keys` needs and has
        not been read, to the end; none when the walk needs no more."""
        at = self._walk_events(a, ids)[1]
        return [i for i in ids[at:] if i not in self.member_of] if at < len(ids) else []

    def _walk_events(self, a: _Article, ids: list[int]) -> tuple[list, int]:
        """(the first `max_event_candidates` distinct event keys of `ids` whose memberships are
        read, the position where the walk stopped: len(ids) when it found them all or ran out,
        else the first candidate whose membership is unread)."""
        limit = self.config.max_event_candidates
        member_of = self.member_of
        seen: dict = {}
        for at, i in enumerate(ids):
            if i == a.id:
                continue
            membership = member_of.get(i)
            if membership is None:
                return list(seen), at
            key = _event_key(membership.get(EVENT))
            if key is not None and key not in seen:
                seen[key] = None
                if len(seen) == limit:
                    break
        return list(seen), len(ids)

    def _new_cluster(self, kind: str, a: _Article, reason: str | None) -> _Cluster:
        when = a.published_at or a.fetched_at
        cluster = _Cluster(kind=kind, representative_id=a.id, first_seen=when, last_seen=when,
                           first_published=a.published_at, last_published=a.published_at,
                           original_reason=reason, is_new=True)
        self.new_clusters.append(cluster)
        self.history_rows.append({"action": "create", "cluster": cluster, "article_id": a.id, "detail": None})
        return cluster

    def _member(self, cluster: _Cluster, a: _Article, role: str | None, similarity: float,
                matched: int | None, evidence: dict) -> None:
        """A membership row; role None means: decided by the copy cluster's original at write time."""
        self.member_rows.append({"cluster": cluster, "article_id": a.id, "kind": cluster.kind, "role": role,
                                 "similarity": similarity, "matched_article_id": matched, "evidence": evidence})

    def _touch(self, cluster: _Cluster, a: _Article) -> None:
        when = a.published_at or a.fetched_at
        cluster.size += 1
        cluster.first_seen = min(filter(None, [cluster.first_seen, when]))
        cluster.last_seen = max(filter(None, [cluster.last_seen, when]))
        if a.published_at:
            cluster.first_published = min(filter(None, [cluster.first_published, a.published_at]))
            cluster.last_published = max(filter(None, [cluster.last_published, a.published_at]))
        cluster.dirty = True

    def _join_copy(self, cluster: _Cluster, a: _Article, rep: int, ov: matching.Overlap) -> None:
        self._touch(cluster, a)
        self._member(cluster, a, None, round(matching.copy_score(ov), 4), rep, ov.as_dict())
        if cluster.members is None:
            rows = bulk.copy_members(self.session, cluster.id)
            cluster.members = [matching.Candidate(*row[:7]) for row in rows]
            cluster.stored_roles = {row[0]: row[7] for row in rows}
        cluster.members.append(a.candidate())
        cluster.representative_id, cluster.original_reason = matching.choose_original(cluster.members)

    def _join_event(self, cluster: _Cluster, a: _Article, score: float, evidence: dict) -> None:
        centroid = self._centroid_of(cluster)  # read (and kept) under the row's version before this join
        self._touch(cluster, a)
        cluster.centroid = events.add_to_sum(centroid or {}, a.fp.event_terms or {},
                                             self.placer.settings.event_sketch.centroid_terms)
        self._member(cluster, a, MEMBER, round(score, 4), None, evidence)
        self.history_rows.append({"action": "join", "cluster": cluster, "article_id": a.id,
                                  "detail": f"similarity {score:.3f}"})

    # -- writing ------------------------------------------------------------------------------

    def write(self) -> None:
        s = self.session
        now = utcnow()
        for kind in (EVENT, COPY):  # events first: a new copy cluster names its event
            created = [c for c in self.new_clusters if c.kind == kind]
            for c in created:
                c.updated_at = now
            rows = [self._cluster_row(c) for c in created]
            for cluster, cluster_id in zip(created, bulk.insert_returning_ids(s, Cluster, rows)):
                cluster.id = cluster_id
        changed = [c for c in self.clusters.values() if c.dirty]
        for c in changed:
            c.updated_at = now
        bulk.update_rows(s, Cluster, [{"id": c.id, **self._cluster_row(c)} for c in changed])
        for c in itertools.chain(self.new_clusters, changed):
            if c.kind == EVENT:
                self.placer._remember_centroid(c.id, _version(c), c.centroid)
        role_changes = []
        for c in self.clusters.values():
            for article_id, role in c.stored_roles.items():
                wanted = ORIGINAL if article_id == c.representative_id else COPY_ROLE
                if wanted != role:
                    role_changes.append({"cluster_id": c.id, "article_id": article_id, "role": wanted})
        bulk.update_rows(s, ClusterMember, role_changes)
        members = []
        for row in self.member_rows:
            cluster = row.pop("cluster")
            if row["role"] is None:
                row["role"] = ORIGINAL if row["article_id"] == cluster.representative_id else COPY_ROLE
            if isinstance(row["evidence"].get("copy_cluster"), _Cluster):
                row["evidence"] = {**row["evidence"], "copy_cluster": row["evidence"]["copy_cluster"].id}
            members.append({"cluster_id": cluster.id, **row})
        bulk.insert_dicts(s, ClusterMember, members)
        bulk.insert_rows(s, ClusterHistory, ("action", "cluster_id", "article_id", "actor", "detail", "at"),
                         [(h["action"], h["cluster"].id, h["article_id"], "ingest", h["detail"], now)
                          for h in self.history_rows])
        # Into the recent tier on SQLite (archive.db.bandindex), in key order: the keys are random
        # hashes, so inserted in arrival order a page dirtied early could be spilled to the log and
        # dirtied again by a later key; in order, each page is visited once per batch.
        copy_level, event_level = bandindex.write_level(s, 0), bandindex.write_level(s, 1)
        bulk.insert_rows(s, BandKey, ("level", "band", "key", "article_id"), sorted(
            [(copy_level, band, key, a.id) for a in self.fresh for band, key in a.fp.copy_keys]
            + [(event_level, band, key, a.id) for a in self.fresh for band, key in a.fp.event_keys]))
        self.placer.event_postings.added(s, self.batch_event_postings)
        after = self.placer.event_postings.mark
        self.placer._written = None if after is None else _Written(
            self.mark_before, after, self.batch_copy_postings, self.batch_same_text, self.batch_event_postings)
        for a in self.fresh:
            a.outcome.article_id = a.id
            a.outcome.copy_cluster = a.copy_cluster.id
            a.outcome.event_cluster = a.event_cluster.id

    @staticmethod
    def _cluster_row(c: _Cluster) -> dict[str, Any]:
        if not c.centroid_read:  # a changed event always had its centroid read to join it
            raise AssertionError(f"event {c.id} would be written without its centroid")
        row = {
            "kind": c.kind, "representative_id": c.representative_id, "size": c.size,
            "first_seen": c.first_seen, "last_seen": c.last_seen, "first_published": c.first_published,
            "last_published": c.last_published, "original_reason": c.original_reason, "centroid": c.centroid,
            "updated_at": c.updated_at,
        }
        row["event_id"] = c.event.id if c.event is not None else c.event_id
        return row


# Memberships read for the whole batch: those of each article's first _EVENT_HEAD x
# max_event_candidates event candidates (it needs 11-14 to find its 10 first events, at 100,000).
_EVENT_HEAD = 2


def _event_key(event: "_Cluster | int | None") -> "_Cluster | int | None":
    """An event as a candidate: its id once it has one, else (new in this batch) the cluster."""
    return event.id if isinstance(event, _Cluster) and event.id is not None else event


def _version(cluster: _Cluster) -> tuple:
    """What shows that a stored cluster changed: every writer sets updated_at, placement the size too."""
    return (cluster.updated_at, cluster.size)


def _top(hits: Counter, limit: int) -> list[int]:
    """The `limit` ids with the most hits, ties to the newest (the highest id), whatever the order counted."""
    return [i for i, n in heapq.nlargest(limit, hits.items(), key=_HITS_THEN_ID) if n > 0]


_HITS_THEN_ID = operator.itemgetter(1, 0)


def _most_shared(ids: np.ndarray, limit: int) -> list[int]:
    """`_top` for ids listed once per shared key: the `limit` most frequent, ties to the highest."""
    if ids.size == 0:
        return []
    # np.unique(return_counts=True) with fewer steps: sorted, each run of one id counted.
    ordered = np.sort(ids)
    edges = np.empty(ordered.size + 1, dtype=bool)
    edges[0] = edges[-1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=edges[1:-1])
    starts = np.flatnonzero(edges)
    # count first, then id (ids stay below 2**32)
    ranked = (np.diff(starts).astype(np.int64) << 32) | ordered[starts[:-1]]
    if ranked.size > limit:
        ranked = ranked[np.argpartition(ranked, -limit)[-limit:]]
    ranked.sort()
    return (ranked[::-1] & 0xFFFFFFFF).tolist()


def _add(timings: dict[str, float], stage: str, seconds: float) -> None:
    timings[stage] = timings.get(stage, 0.0) + seconds
