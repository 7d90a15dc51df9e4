"""The archive's invariants, checked in SQL, and the repairs of what can be derived again.

Each rule is one query returning the ids that break it, so a check reads no more than the
offending rows, except for three streamed passes: over the band index (`BandKeyCensus`), over
articles for their event-index keys, and over raw documents, each decompressed. `repair` mends
what the archive can derive from what it holds: band keys from the stored signature and event
terms, cluster sizes, time bounds and
representatives from the members, a missing cluster placement as a cluster of its own,
unreferenced raw documents and empty clusters removed. Two clusters holding one text (a split)
and a member whose kind disagrees with its cluster are reported, not repaired: deciding which
cluster wins is a curator's call (`archive merge`); raw bytes that do not decompress are
reported too, since nothing can derive them again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import zstandard
from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from archive.config import Settings
from archive.core import events, matching, sketch
from archive.db import bandindex, bulk, queries
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
    Decision,
    RawDocument,
    Source,
)
from archive.pipeline import raw

EXAMPLES = 20
_CHUNK = 2000
_RAW_CHUNK = 200  # raw documents read at once: pages of up to 20 MB each, compressed
ACTIVE = "active"


@dataclasses.dataclass
class Violation:
    rule: str
    message: str
    count: int
    examples: list[int]  # ids of the offending rows (articles, clusters or raw documents; see `message`)
    repairable: bool

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Report:
    violations: list[Violation]
    repaired: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def total(self) -> int:
        return sum(v.count for v in self.violations)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "violations": [v.as_dict() for v in self.violations], "repaired": self.repaired}


@dataclasses.dataclass(frozen=True)
class Rule:
    code: str
    message: str
    query: Callable[[Settings], Select]  # selects the offending ids
    repairable: bool = True


def _member_count():
    return (select(func.count()).select_from(ClusterMember)
            .where(ClusterMember.cluster_id == Cluster.id).scalar_subquery())


def _has_member(kind: str):
    return select(ClusterMember.article_id).where(
        ClusterMember.article_id == Article.id, ClusterMember.kind == kind).exists()


def _active(kind: str | None = None):
    cond = Cluster.status == ACTIVE
    return and_(cond, Cluster.kind == kind) if kind else cond


def _event_of_member():
    """A copy cluster's member whose event cluster is not the copy cluster's event."""
    copy_m, event_m = aliased(ClusterMember), aliased(ClusterMember)
    return (select(Cluster.id).distinct()
            .join(copy_m, and_(copy_m.cluster_id == Cluster.id, copy_m.kind == COPY))
            .join(event_m, and_(event_m.article_id == copy_m.article_id, event_m.kind == EVENT))
            .where(_active(COPY), or_(Cluster.event_id.is_(None), event_m.cluster_id != Cluster.event_id)))


def _split_texts():
    """Text hashes held by more than one copy cluster, outside manual cannot-link decisions."""
    decided = select(Decision.article_a).where(Decision.level == COPY, Decision.link == "cannot-link").union(
        select(Decision.article_b).where(Decision.level == COPY, Decision.link == "cannot-link",
                                         Decision.article_b.is_not(None)))
    return (select(func.min(Article.id))
            .join(ClusterMember, and_(ClusterMember.article_id == Article.id, ClusterMember.kind == COPY))
            .where(Article.id.not_in(decided))
            .group_by(Article.text_hash)
            .having(func.count(func.distinct(ClusterMember.cluster_id)) > 1))


RULES: tuple[Rule, ...] = (
    Rule("no-copy-cluster", "articles in no copy cluster", lambda s: select(Article.id).where(~_has_member(COPY))),
    Rule("no-event-cluster", "articles in no event cluster", lambda s: select(Article.id).where(~_has_member(EVENT))),
    Rule("member-kind", "clusters with members whose kind is not the cluster's kind",
         lambda s: select(Cluster.id).distinct().join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
         .where(ClusterMember.kind != Cluster.kind), repairable=False),
    Rule("inactive-member", "merged clusters that still have members",
         lambda s: select(Cluster.id).where(Cluster.status != ACTIVE, _member_count() > 0), repairable=False),
    Rule("empty-cluster", "active clusters without members",
         lambda s: select(Cluster.id).where(_active(), _member_count() == 0)),
    Rule("representative", "clusters whose representative is not one of their members",
         lambda s: select(Cluster.id).where(_active(), _member_count() > 0, ~select(ClusterMember.article_id).where(
             ClusterMember.cluster_id == Cluster.id, ClusterMember.article_id == Cluster.representative_id).exists())),
    Rule("cluster-size", "clusters whose size is not their number of members",
         lambda s: select(Cluster.id).where(_active(), Cluster.size != _member_count())),
    Rule("copy-in-event", "copy clusters not nested in the event cluster of their members",
         lambda s: _event_of_member()),
    Rule("unreferenced-raw", "raw documents no article refers to",
         lambda s: select(RawDocument.id).where(
             ~select(Article.id).where(Article.raw_document_id == RawDocument.id).exists())),
    Rule("split-text", "one text in several copy clusters (lowest article id of each text)",
         lambda s: _split_texts(), repairable=False),
)


@dataclasses.dataclass
class BandKeyCensus:
    """What the band index holds per article id (both tiers), read in one streamed pass.

    The index has no article_id index (migration 0007: one cost every move of the recent tier
    paid twice), so the checks read it whole, in two ranges of its primary key, instead of
    seeking each article's keys; numpy arrays indexed by article id keep that pass at about 30
    bytes of memory per article. An article's event keys are compared by count and by their
    sum modulo 2**64: the keys are 64-bit hashes, so two different sets of one size agree on the
    sum by chance about once in 2**64.
    """

    copy_keys: np.ndarray  # article id -> copy-index keys
    event_keys: np.ndarray  # article id -> event-index keys
    event_sum: np.ndarray  # article id -> sum of its event keys (uint64, wrapping)
    articles: np.ndarray  # article id -> whether the article exists

    @classmethod
    def read(cls, session: Session) -> BandKeyCensus:
        articles = _bools(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                          for rows in bulk.stream_rows(session, "SELECT id FROM articles"))
        copy_keys, event_keys = np.zeros(0, np.int64), np.zeros(0, np.int64)
        event_sum = np.zeros(0, np.uint64)
        copy_sql = "SELECT article_id FROM band_keys WHERE level IN (?, ?)"
        for rows in bulk.stream_rows(session, copy_sql, bandindex.tiers(0)):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            copy_keys = _add_counts(copy_keys, ids)
        event_sql = "SELECT article_id, key FROM band_keys WHERE level IN (?, ?)"
        for rows in bulk.stream_rows(session, event_sql, bandindex.tiers(1)):
            pairs = np.array(rows, dtype=np.int64).reshape(-1, 2)
            ids = pairs[:, 0]
            event_keys = _add_counts(event_keys, ids)
            event_sum = _padded(event_sum, len(event_keys))
            np.add.at(event_sum, ids, pairs[:, 1].view(np.uint64))
        return cls(copy_keys, event_keys, event_sum, articles)

    def orphans(self) -> list[int]:
        """Article ids with keys in the index but no article."""
        size = max(len(self.copy_keys), len(self.event_keys))
        keyed = (_padded(self.copy_keys, size) + _padded(self.event_keys, size)) > 0
        return np.flatnonzero(keyed & ~_padded(self.articles, size)[:size]).tolist()

    def wrong_copy_keys(self, bands: int) -> list[int]:
        """Articles without exactly one copy-index key per band."""
        ids = np.flatnonzero(self.articles)
        counts = _padded(self.copy_keys, len(self.articles))
        return ids[counts[ids] != bands].tolist()

    def event_keys_match(self, article_id: int, wanted: set[int]) -> bool:
        """Whether the article's stored event keys are `wanted` (signed 64-bit keys, as stored)."""
        count = int(self.event_keys[article_id]) if article_id < len(self.event_keys) else 0
        stored = int(self.event_sum[article_id]) if article_id < len(self.event_sum) else 0
        return count == len(wanted) and stored == sum(wanted) % (1 << 64)


def _bools(id_chunks: Iterable[np.ndarray]) -> np.ndarray:
    ids = np.concatenate(list(id_chunks) or [np.zeros(0, np.int64)])
    out = np.zeros(int(ids.max()) + 1 if ids.size else 0, bool)
    out[ids] = True
    return out


def _add_counts(counts: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """`counts` (grown as needed) plus one for each id in `ids`."""
    found = np.bincount(ids)
    counts = _padded(counts, len(found))
    counts[: len(found)] += found
    return counts


def _padded(values: np.ndarray, size: int) -> np.ndarray:
    """`values` with zeros (False) appended up to `size` items; as it is when already that long."""
    if len(values) >= size:
        return values
    return np.concatenate([values, np.zeros(size - len(values), values.dtype)])


def _event_index_mismatches(session: Session, settings: Settings, census: BandKeyCensus) -> Iterator[int]:
    """Articles whose event-index keys are not those their stored event terms give."""
    last = 0
    while True:
        rows = session.execute(select(Article.id, Article.event_terms).where(Article.id > last)
                               .order_by(Article.id).limit(_CHUNK)).all()
        if not rows:
            return
        last = rows[-1][0]
        for article_id, terms in rows:
            wanted = {k for _, k in events.index_keys(terms or {}, settings.event_sketch)}
            if not census.event_keys_match(article_id, wanted):
                yield article_id


def _unreadable_raw(session: Session) -> Iterator[int]:
    """Raw documents whose stored bytes do not decompress to their recorded size (before raw
    bytes were compressed per thread, two scheduled jobs compressing at once could store such
    frames). The bytes cannot be derived again: reported, not repaired."""
    last = 0
    while True:
        rows = session.execute(select(RawDocument.id, RawDocument.compression, RawDocument.size, RawDocument.content)
                               .where(RawDocument.id > last).order_by(RawDocument.id).limit(_RAW_CHUNK)).all()
        if not rows:
            return
        last = rows[-1][0]
        for raw_id, compression, size, content in rows:
            try:
                readable = len(raw.decompress(content, compression)) == size
            except zstandard.ZstdError:
                readable = False
            if not readable:
                yield raw_id


def check(session: Session, settings: Settings) -> Report:
    """Every invariant the archive keeps, with the ids that break each one."""
    census = BandKeyCensus.read(session)
    found = []
    for code, message, ids in (
            ("band-keys-copy", "articles without exactly one copy-index band key per band",
             census.wrong_copy_keys(settings.sketch.bands[0])),
            ("orphan-band-keys", "band keys of articles that do not exist (article ids)", census.orphans())):
        if ids:
            found.append(Violation(code, message, len(ids), ids[:EXAMPLES], True))
    for rule in RULES:
        q = rule.query(settings).subquery()
        count = session.scalar(select(func.count()).select_from(q)) or 0
        if count:
            examples = list(session.scalars(select(q.c[0]).order_by(q.c[0]).limit(EXAMPLES)))
            found.append(Violation(rule.code, rule.message, count, examples, rule.repairable))
    bad_events = list(_event_index_mismatches(session, settings, census))
    if bad_events:
        found.append(Violation("band-keys-event", "articles whose event-index keys do not match their terms",
                               len(bad_events), bad_events[:EXAMPLES], True))
    unreadable = list(_unreadable_raw(session))
    if unreadable:
        found.append(Violation("unreadable-raw", "raw documents whose stored bytes do not decompress (ids)",
                               len(unreadable), unreadable[:EXAMPLES], False))
    return Report(found)


# -- repair -----------------------------------------------------------------------------------


def _ids(session: Session, code: str, settings: Settings) -> list[int]:
    rule = next(r for r in RULES if r.code == code)
    return list(session.scalars(rule.query(settings)))


def _rebuild_band_keys(session: Session, settings: Settings, article_ids: list[int], level: int) -> None:
    """The articles' keys of `level` written again from their stored signatures or event terms,
    into the main tier (whichever tier held them before; see `archive.db.bandindex`)."""
    for start in range(0, len(article_ids), _CHUNK):
        chunk = article_ids[start:start + _CHUNK]
        session.execute(delete(BandKey).where(BandKey.level.in_(bandindex.tiers(level)),
                                              BandKey.article_id.in_(chunk)))
        rows = []
        for article_id, signature, terms in session.execute(
                select(Article.id, Article.signature, Article.event_terms).where(Article.id.in_(chunk))):
            if level == 0:
                keys = sketch.band_keys(sketch.signature_from_bytes(signature), settings.sketch.bands, level=0)
            else:
                keys = events.index_keys(terms or {}, settings.event_sketch)
            rows += [{"level": level, "band": b, "key": k, "article_id": article_id} for b, k in dict.fromkeys(keys)]
        if rows:
            session.execute(BandKey.__table__.insert(), rows)


def _new_cluster(session: Session, kind: str, article: Article, role: str) -> Cluster:
    cluster = Cluster(kind=kind, representative_id=article.id, size=1,
                      original_reason="first of its text" if kind == COPY else None,
                      centroid=dict(article.event_terms or {}) if kind == EVENT else None)
    session.add(cluster)
    session.flush()
    session.add(ClusterMember(cluster_id=cluster.id, article_id=article.id, kind=kind, role=role, similarity=1.0,
                              evidence={"reason": "placed by archive check --repair"}))
    session.add(ClusterHistory(action="create", cluster_id=cluster.id, article_id=article.id, actor="check"))
    return cluster


def _place_unplaced(session: Session, settings: Settings) -> int:
    """Articles missing a cluster get one of their own (their copy cluster's event when it has one)."""
    fixed = 0
    for article_id in _ids(session, "no-event-cluster", settings):
        article = session.get(Article, article_id)
        copy_cluster = session.scalar(select(Cluster).join(ClusterMember, ClusterMember.cluster_id == Cluster.id)
                                      .where(ClusterMember.article_id == article_id, ClusterMember.kind == COPY))
        event = session.get(Cluster, copy_cluster.event_id) if copy_cluster and copy_cluster.event_id else None
        if event is not None and event.status == ACTIVE:
            session.add(ClusterMember(cluster_id=event.id, article_id=article_id, kind=EVENT, role=MEMBER,
                                      similarity=None, evidence={"reason": "placed by archive check --repair"}))
        else:
            event = _new_cluster(session, EVENT, article, MEMBER)
            if copy_cluster is not None:
                copy_cluster.event_id = event.id
        fixed += 1
    session.flush()
    for article_id in _ids(session, "no-copy-cluster", settings):
        article = session.get(Article, article_id)
        copy_cluster = _new_cluster(session, COPY, article, ORIGINAL)
        copy_cluster.event_id = session.scalar(select(ClusterMember.cluster_id).where(
            ClusterMember.article_id == article_id, ClusterMember.kind == EVENT))
        fixed += 1
    session.flush()
    return fixed


def _drop_empty_clusters(session: Session, settings: Settings) -> int:
    ids = _ids(session, "empty-cluster", settings)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        session.execute(update(Cluster).where(Cluster.event_id.in_(chunk)).values(event_id=None))
        session.execute(update(Cluster).where(Cluster.merged_into.in_(chunk)).values(merged_into=None))
        session.execute(delete(Cluster).where(Cluster.id.in_(chunk)))
    return len(ids)


def _renest_copies(session: Session, settings: Settings) -> int:
    """A copy cluster's event becomes the event cluster most of its members belong to."""
    ids = list(session.scalars(_event_of_member()))
    for cluster_id in ids:
        rows = session.execute(
            select(ClusterMember.cluster_id, func.count())
            .where(ClusterMember.kind == EVENT, ClusterMember.article_id.in_(
                select(ClusterMember.article_id).where(ClusterMember.cluster_id == cluster_id)))
            .group_by(ClusterMember.cluster_id).order_by(func.count().desc(), ClusterMember.cluster_id)).first()
        if rows:
            session.execute(update(Cluster).where(Cluster.id == cluster_id).values(event_id=rows[0]))
    return len(ids)


def _reelect(session: Session, cluster: Cluster) -> None:
    rows = session.execute(
        select(Article.id, Article.published_at, Article.fetched_at, Article.attribution, Source.name,
               Article.canonical_url, Article.url)
        .join(ClusterMember, ClusterMember.article_id == Article.id)
        .outerjoin(Source, Source.id == Article.source_id)
        .where(ClusterMember.cluster_id == cluster.id)).all()
    if cluster.kind == COPY:
        cluster.representative_id, cluster.original_reason = matching.choose_original(
            [matching.Candidate(*row) for row in rows])
        for member in session.scalars(select(ClusterMember).where(ClusterMember.cluster_id == cluster.id)):
            member.role = ORIGINAL if member.article_id == cluster.representative_id else COPY_ROLE
    else:
        cluster.representative_id = min(rows, key=lambda r: (r.fetched_at, r.id)).id


def _recount(session: Session, cluster_ids: list[int]) -> None:
    """Size and time bounds of each cluster, from its members."""
    for start in range(0, len(cluster_ids), _CHUNK):
        chunk = cluster_ids[start:start + _CHUNK]
        when = func.coalesce(Article.published_at, Article.fetched_at)
        stats = session.execute(
            select(ClusterMember.cluster_id, func.count(), func.min(when), func.max(when),
                   func.min(Article.published_at), func.max(Article.published_at))
            .join(Article, Article.id == ClusterMember.article_id)
            .where(ClusterMember.cluster_id.in_(chunk)).group_by(ClusterMember.cluster_id))
        for cluster_id, size, first, last, first_pub, last_pub in stats:
            session.execute(update(Cluster).where(Cluster.id == cluster_id).values(
                size=size, first_seen=first, last_seen=last, first_published=first_pub, last_published=last_pub))


def repair(session: Session, settings: Settings) -> dict[str, int]:
    """Mend every derivable violation in the caller's transaction; returns what was done per rule."""
    done: dict[str, int] = {}

    def note(code: str, n: int) -> None:
        if n:
            done[code] = done.get(code, 0) + n

    census = BandKeyCensus.read(session)
    orphans = census.orphans()
    for start in range(0, len(orphans), _CHUNK):
        session.execute(delete(BandKey).where(BandKey.article_id.in_(orphans[start:start + _CHUNK])))
    note("orphan-band-keys", len(orphans))
    raws = _ids(session, "unreferenced-raw", settings)
    for start in range(0, len(raws), _CHUNK):
        session.execute(delete(RawDocument).where(RawDocument.id.in_(raws[start:start + _CHUNK])))
    note("unreferenced-raw", len(raws))
    bad_copy = census.wrong_copy_keys(settings.sketch.bands[0])
    _rebuild_band_keys(session, settings, bad_copy, 0)
    note("band-keys-copy", len(bad_copy))
    bad_event = list(_event_index_mismatches(session, settings, census))
    _rebuild_band_keys(session, settings, bad_event, 1)
    note("band-keys-event", len(bad_event))
    if orphans or bad_copy or bad_event:
        queries.bump_index_generation(session)
    note("no-cluster", _place_unplaced(session, settings))
    note("empty-cluster", _drop_empty_clusters(session, settings))
    note("copy-in-event", _renest_copies(session, settings))
    session.flush()
    for cluster_id in _ids(session, "representative", settings):
        _reelect(session, session.get(Cluster, cluster_id))
        note("representative", 1)
    sizes = _ids(session, "cluster-size", settings)
    _recount(session, sizes)
    note("cluster-size", len(sizes))
    session.flush()
    return done
