"""Rebuild the clusters from stored data with other thresholds, honouring manual decisions.

Nothing is re-read from raw documents: copy candidates come from the stored MinHash signatures
(band keys recomputed from them), copies are verified on the stored shingle sets (the clean text's
shingles for articles stored before they were kept), and events use the stored term vectors. Articles are streamed; the index it builds (article ids per
band key and per term) and the originals' shingles stay in memory for the run. Articles are replayed in id order (the order they were
archived) with the same rules as placement: a copy is verified against the original of its copy
cluster (no chaining), a new text joins the event whose centroid it is closest to within the
publication window. Manual decisions (`archive.curation`) are explicit constraints: a
must-link puts an article in its partner's cluster, a cannot-link keeps it out of any cluster
holding its partner; the latest decision on a pair wins.

The result is compared with the clusters in the database: each new cluster keeps the id of the
old cluster it shares most articles with, so ids survive; the rest are reported as merges and
splits. `apply` writes the plan in the caller's transaction, with history rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator

import numpy as np
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from archive import curation
from archive.config import Settings
from archive.core import events, headline, matching, sketch
from archive.core.normalize import detect_language
from archive.db import bulk, queries
from archive.db.models import (
    COPY,
    COPY_ROLE,
    EVENT,
    MEMBER,
    ORIGINAL,
    Article,
    Cluster,
    ClusterHistory,
    ClusterMember,
    Source,
    utcnow,
)

ProgressCallback = Callable[[int, int], None]
LOAD_CHUNK = 1000
SAME_TEXT_LIMIT = 5


@dataclasses.dataclass
class _Item:
    id: int
    candidate: matching.Candidate
    text_hash: str
    signature: np.ndarray
    event_terms: dict[str, float]
    clean_text: str  # held only while this article is placed
    language: str | None
    stored_shingles: bytes | None = None  # articles.shingles (NULL before migration 0004)
    title: str | None = None

    def shingles(self, config: sketch.SketchConfig) -> np.ndarray:
        if self.stored_shingles is not None:
            return sketch.shingles_from_bytes(self.stored_shingles)
        return sketch.shingle_set(self.clean_text, config)

    @property
    def when(self) -> dt.datetime:
        return self.candidate.published_at or self.candidate.fetched_at


@dataclasses.dataclass(eq=False)
class NewCluster:
    kind: str
    members: list[int] = dataclasses.field(default_factory=list)
    representative_id: int | None = None
    original_reason: str | None = None
    event: "NewCluster | None" = None
    centroid: dict[str, float] = dataclasses.field(default_factory=dict)
    first_published: dt.datetime | None = None
    last_published: dt.datetime | None = None
    similarity: dict[int, float] = dataclasses.field(default_factory=dict)
    evidence: dict[int, dict] = dataclasses.field(default_factory=dict)
    id: int | None = None  # the old id it keeps, or the new id once written


@dataclasses.dataclass
class Plan:
    copy_threshold: float
    event_threshold: float
    clusters: list[NewCluster]
    kept: dict[str, int]  # kind -> clusters whose id survives with the same members
    changed: list[dict]  # kept ids whose members change
    created: list[dict]
    merges: list[dict]  # old clusters retired: {"kind", "cluster", "into"}
    splits: list[dict]  # old clusters whose articles now lie in several clusters
    moved_articles: int
    old_members: dict[int, set[int]] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def unchanged(self) -> bool:
        return not (self.changed or self.created or self.merges or self.splits)

    def summary(self) -> dict:
        return {
            "copy_threshold": self.copy_threshold, "event_threshold": self.event_threshold,
            "copy_clusters": sum(1 for c in self.clusters if c.kind == COPY),
            "event_clusters": sum(1 for c in self.clusters if c.kind == EVENT),
            "unchanged_clusters": self.kept, "moved_articles": self.moved_articles,
            "changed": self.changed, "created": self.created, "merges": self.merges, "splits": self.splits,
        }


def plan(session: Session, settings: Settings, copy_threshold: float | None = None,
         event_threshold: float | None = None, progress: ProgressCallback | None = None) -> Plan:
    """What re-clustering with these thresholds would change (nothing is written)."""
    changes: dict[str, float] = {}
    if copy_threshold is not None:
        changes["copy_jaccard"] = copy_threshold
    if event_threshold is not None:  # one threshold for articles in every script
        changes["event_similarity"] = changes["event_similarity_cjk"] = event_threshold
    config = dataclasses.replace(settings.matching, **changes)
    links = curation.linked_pairs(session)
    clusters = _Replay(session, settings, config, links, progress).run()
    return _compare(session, clusters, config)


class _Replay:
    """Placement replayed over every article. Articles are streamed from the database; what stays
    in memory is the index (ids per band key and term), each article's original-choosing facts,
    and the shingles of the current originals only."""

    def __init__(self, session: Session, settings: Settings, config: matching.MatchingConfig,
                 links: dict[str, dict[frozenset[int], str]], progress: ProgressCallback | None):
        self.session, self.settings, self.config, self.progress = session, settings, config, progress
        self.links = links
        self.partners = {level: _partners(pairs) for level, pairs in links.items()}
        self.copy_of: dict[int, NewCluster] = {}
        self.event_of: dict[int, NewCluster] = {}
        self.copy_postings: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.same_text: dict[str, list[int]] = defaultdict(list)
        self.event_postings: dict[int, list[int]] = defaultdict(list)
        self.shingles: dict[int, np.ndarray] = {}  # originals' shingles only
        self.stray_titles: dict[int, str | None] = {}  # headlines of bodies that carry none of them
        self.candidates: dict[int, matching.Candidate] = {}
        self.clusters: list[NewCluster] = []

    def run(self) -> list[NewCluster]:
        total = self.session.scalar(select(func.count()).select_from(Article)) or 0
        for n, item in enumerate(_load(self.session), 1):
            self.place(item)
            if self.progress:
                self.progress(n, total)
        return self.clusters

    def _original_shingles(self, article_id: int) -> np.ndarray:
        found = self.shingles.get(article_id)
        if found is None:  # an earlier member elected original later: read its shingles again
            found = self.shingles[article_id] = bulk.shingle_sets(
                self.session, [article_id], self.settings.sketch).get(article_id, np.zeros(0, np.uint32))
        return found

    def place(self, item: _Item) -> None:
        shingles = item.shingles(self.settings.sketch)
        copy_keys = sketch.band_keys(item.signature, self.settings.sketch.bands, level=0)
        event_keys = [k for _, k in events.index_keys(item.event_terms, self.settings.event_sketch)]
        self.candidates[item.id] = item.candidate
        if headline.stray_body(item.title, item.clean_text):
            self.stray_titles[item.id] = item.title
        copy = self._forced(item.id, COPY, self.copy_of) or self._find_copy(item, shingles, copy_keys, event_keys)
        if copy:
            cluster, score, evidence = copy
            self._add(cluster, item, score, evidence)
            previous = cluster.representative_id
            cluster.representative_id, cluster.original_reason = matching.choose_original(
                [self.candidates[m] for m in cluster.members])
            if cluster.representative_id != previous:
                self.shingles.pop(previous, None)
                if cluster.representative_id == item.id:
                    self.shingles[item.id] = shingles
            event = cluster.event
            self._add(event, item, 1.0, {"via": "copy"})
        else:
            cluster = self._new(COPY, item)
            cluster.original_reason = "first of its text"
            self.shingles[item.id] = shingles
            event_match = self._forced(item.id, EVENT, self.event_of) or self._find_event(item, copy_keys, event_keys)
            if event_match:
                event, score, evidence = event_match
                self._add(event, item, score, evidence)
            else:
                event = self._new(EVENT, item)
            cluster.event = event
        self.copy_of[item.id], self.event_of[item.id] = cluster, event
        self.same_text[item.text_hash].append(item.id)
        for key in copy_keys:
            self.copy_postings[key].append(item.id)
        for key in event_keys:
            self.event_postings[key].append(item.id)

    def _forced(self, article_id: int, level: str, placed: dict[int, NewCluster]):
        """The cluster a must-link decision puts this article in (a partner already placed)."""
        for partner in self.partners.get(level, {}).get(curation.MUST_LINK, {}).get(article_id, ()):
            cluster = placed.get(partner)
            if cluster is not None and self._allowed(article_id, cluster, level):
                return cluster, 1.0, {"decision": curation.MUST_LINK, "with": partner}
        return None

    def _allowed(self, article_id: int, cluster: NewCluster, level: str) -> bool:
        banned = self.partners.get(level, {}).get(curation.CANNOT_LINK, {}).get(article_id)
        return not banned or not banned.intersection(cluster.members)

    # Candidates as placement (archive.pipeline.store) gathers them: the same text, the copy-LSH
    # bands, and the best term matches (a padded reprint); events from the terms, then the bands.

    def _band_hits(self, keys) -> Counter:
        hits: Counter[int] = Counter()
        for key in keys:
            hits.update(self.copy_postings.get(key, ()))
        return hits

    def _term_hits(self, event_keys) -> Counter:
        hits: Counter[int] = Counter()
        cap = self.settings.event_sketch.bucket_limit
        for key in event_keys:
            hits.update(self.event_postings.get(key, [])[-cap:])  # each term's newest postings
        return hits

    def _find_copy(self, item: _Item, shingles: np.ndarray, keys, event_keys):
        ids = (list(reversed(self.same_text.get(item.text_hash, [])))[:SAME_TEXT_LIMIT]
               + _top(self._band_hits(keys), self.config.max_candidates)
               + _top(self._term_hits(event_keys), self.config.copy_term_candidates))
        best = None
        clusters = list(dict.fromkeys(self.copy_of[i] for i in ids))[: self.config.max_candidates]
        for cluster in clusters:
            if not self._allowed(item.id, cluster, COPY):
                continue
            rep = cluster.representative_id
            if item.id in self.stray_titles and rep in self.stray_titles and headline.bars_copy(
                    item.title, True, self.stray_titles[rep], True):
                continue
            ov = matching.overlap(shingles, self._original_shingles(rep))
            if matching.is_copy(ov, self.config) and (best is None or matching.copy_score(ov) > best[1]):
                best = (cluster, matching.copy_score(ov), {**ov.as_dict(), "matched": cluster.representative_id})
        return best

    def _find_event(self, item: _Item, copy_keys, event_keys):
        if not item.event_terms:
            return None
        ids = (_top(self._term_hits(event_keys), self.config.max_candidates)
               + _top(self._band_hits(copy_keys), self.config.max_candidates - 1))
        best = None
        window = self.config.event_window_days
        for cluster in dict.fromkeys(self.event_of[i] for i in ids):
            if not self._allowed(item.id, cluster, EVENT):
                continue
            if not matching.within_window(item.candidate.published_at, cluster.first_published, window):
                continue
            score = matching.event_match(item.event_terms, cluster.centroid, len(cluster.members), self.config,
                                         language=item.language or detect_language(item.clean_text))
            if score is not None and (best is None or score > best[1]):
                best = (cluster, score, {"via": "terms"})
        return best

    def _new(self, kind: str, item: _Item) -> NewCluster:
        cluster = NewCluster(kind, representative_id=item.id)
        self.clusters.append(cluster)
        self._add(cluster, item, 1.0, {"reason": f"first of its {'text' if kind == COPY else 'event'}"})
        return cluster

    def _add(self, cluster: NewCluster, item: _Item, score: float, evidence: dict) -> None:
        cluster.members.append(item.id)
        cluster.similarity[item.id] = round(score, 4)
        cluster.evidence[item.id] = {"recluster": True, **evidence}
        published = item.candidate.published_at
        if published:
            cluster.first_published = min(filter(None, [cluster.first_published, published]))
            cluster.last_published = max(filter(None, [cluster.last_published, published]))
        if cluster.kind == EVENT:
            cluster.centroid = curation.centroid_sum([cluster.centroid, item.event_terms])


def _top(hits: Counter, limit: int) -> list[int]:
    """The `limit` ids with the most hits, ties to the newest (highest id), as placement ranks them."""
    return [i for i, n in heapq.nsmallest(limit, hits.items(), key=lambda kv: (-kv[1], -kv[0])) if n > 0]


def _partners(pairs: dict[frozenset[int], str]) -> dict[str, dict[int, set[int]]]:
    out: dict[str, dict[int, set[int]]] = {curation.MUST_LINK: defaultdict(set), curation.CANNOT_LINK: defaultdict(set)}
    for pair, link in pairs.items():
        a, b = tuple(pair)
        out[link][a].add(b)
        out[link][b].add(a)
    return out


def _load(session: Session) -> Iterator[_Item]:
    """Every article in id order (the order they were archived), streamed in chunks."""
    rows = session.execute(
        select(Article.id, Article.published_at, Article.fetched_at, Article.attribution, Source.name,
               Article.canonical_url, Article.url, Article.text_hash, Article.signature, Article.event_terms,
               Article.clean_text, Article.language, Article.shingles, Article.title)
        .outerjoin(Source, Source.id == Article.source_id)
        .order_by(Article.id)
        .execution_options(yield_per=LOAD_CHUNK)
    )
    for r in rows:
        yield _Item(r[0], matching.Candidate(*r[:7]), r.text_hash, sketch.signature_from_bytes(r.signature),
                    r.event_terms or {}, r.clean_text or "", r.language, r.shingles, r.title)


# -- comparing with what the database holds ------------------------------------------------------


def _compare(session: Session, clusters: list[NewCluster], config: matching.MatchingConfig) -> Plan:
    old_members: dict[int, set[int]] = defaultdict(set)
    old_kind: dict[int, str] = {}
    for cluster_id, kind, article_id in session.execute(
        select(ClusterMember.cluster_id, ClusterMember.kind, ClusterMember.article_id)
    ):
        old_members[cluster_id].add(article_id)
        old_kind[cluster_id] = kind
    old_of = {(old_kind[c], a): c for c, arts in old_members.items() for a in arts}
    kept: Counter[str] = Counter()
    changed, created, merges, splits = [], [], [], []
    moved = set()
    for kind in (EVENT, COPY):
        new = [c for c in clusters if c.kind == kind]
        overlaps = Counter()
        for index, cluster in enumerate(new):
            for article_id in cluster.members:
                old = old_of.get((kind, article_id))
                if old is not None:
                    overlaps[(index, old)] += 1
        claimed_old: set[int] = set()
        for (index, old), _ in sorted(overlaps.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][0])):
            if new[index].id is None and old not in claimed_old:
                new[index].id = old
                claimed_old.add(old)
        for cluster in new:
            members = set(cluster.members)
            if cluster.id is None:
                created.append({"kind": kind, "articles": sorted(members)})
            elif members == old_members[cluster.id]:
                kept[kind] += 1
            else:
                changed.append({"kind": kind, "cluster": cluster.id, "joined": sorted(members - old_members[cluster.id]),
                                "left": sorted(old_members[cluster.id] - members)})
            for a in members:
                if old_of.get((kind, a)) != cluster.id:
                    moved.add(a)
        new_of = {a: (c.id if c.id is not None else f"new {kind} cluster of article {min(c.members)}")
                  for c in new for a in c.members}
        for old, arts in sorted(old_members.items()):
            if old_kind[old] != kind:
                continue
            destinations = Counter(new_of[a] for a in arts if a in new_of)
            if old not in claimed_old:
                into = destinations.most_common(1)[0][0] if destinations else None
                merges.append({"kind": kind, "cluster": old, "into": into})
            if len(destinations) > 1:
                splits.append({"kind": kind, "cluster": old, "into": sorted(map(str, destinations))})
    return Plan(config.copy_jaccard, config.event_similarity, clusters, dict(kept), changed, created, merges,
                splits, len(moved), dict(old_members))


def lock(session: Session) -> None:
    """Keep ingest and curation from writing clusters while a re-clustering reads and rewrites them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE clusters, cluster_members IN SHARE ROW EXCLUSIVE MODE"))
    else:  # a first write takes SQLite's write lock for the whole transaction
        queries.set_meta(session, "recluster_started", utcnow().isoformat(timespec="seconds"))
        session.flush()


def apply(session: Session, the_plan: Plan, actor: str = "recluster") -> None:
    """Write the plan: memberships rebuilt, surviving ids kept, retired clusters marked merged."""
    now = utcnow()
    session.execute(delete(ClusterMember))
    session.flush()
    clusters = sorted(the_plan.clusters, key=lambda c: c.kind != EVENT)  # events first: copies name them
    existing = {c.id: c for c in session.scalars(select(Cluster))}
    times = _times(session)
    for new in clusters:
        row = existing.get(new.id) if new.id is not None else None
        if row is None:
            row = Cluster(kind=new.kind, created_at=now)
            session.add(row)
            session.flush()
            new.id = row.id
            session.add(ClusterHistory(action="create", cluster_id=row.id, article_id=new.representative_id,
                                       actor=actor, detail="recluster"))
        seen = [times[a] for a in new.members]
        row.status, row.merged_into, row.size = "active", None, len(new.members)
        row.representative_id, row.original_reason = new.representative_id, new.original_reason
        row.first_seen, row.last_seen = min(seen), max(seen)
        row.first_published, row.last_published = new.first_published, new.last_published
        row.centroid = new.centroid if new.kind == EVENT else None
        row.event_id = new.event.id if new.kind == COPY else None
        row.updated_at = now
    session.flush()
    members = []
    for new in clusters:
        for a in new.members:
            role = MEMBER if new.kind == EVENT else (ORIGINAL if a == new.representative_id else COPY_ROLE)
            matched = new.evidence[a].get("matched") if new.kind == COPY and a != new.representative_id else None
            members.append({"cluster_id": new.id, "article_id": a, "kind": new.kind, "role": role,
                            "similarity": new.similarity[a], "matched_article_id": matched,
                            "evidence": new.evidence[a], "added_at": now})
    bulk.insert_dicts(session, ClusterMember, members)
    new_of = {(c.kind, a): c.id for c in clusters for a in c.members}
    survivors = {c.id for c in clusters}
    for old, arts in sorted(the_plan.old_members.items()):
        row = existing[old]
        destinations = Counter(new_of[(row.kind, a)] for a in arts if (row.kind, a) in new_of)
        if old not in survivors:
            into = destinations.most_common(1)[0][0] if destinations else None
            row.status, row.merged_into, row.size, row.updated_at = "merged", into, 0, now
            if into is not None:
                session.add(ClusterHistory(action="merge", cluster_id=into, other_cluster_id=old, actor=actor,
                                           detail="recluster"))
        for piece in destinations:
            if len(destinations) > 1 and piece != old:
                session.add(ClusterHistory(action="split", cluster_id=old, other_cluster_id=piece, actor=actor,
                                           detail="recluster"))
    session.flush()


def _times(session: Session) -> dict[int, dt.datetime]:
    return {i: p or f for i, p, f in session.execute(select(Article.id, Article.published_at, Article.fetched_at))}
