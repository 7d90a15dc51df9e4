"""Place one fingerprinted article in the archive: match, cluster and write, in the caller's transaction.

Matching: copy candidates come from the persistent LSH index (level 0) and the exact text hash;
each is verified on actual shingles (`archive.core.matching.is_copy`) against the original of its
copy cluster, so a copy cluster never grows by chaining through its members. An article that is a
copy joins that copy cluster and its event. Otherwise it opens a copy cluster of its own and looks
for an event: candidates from the event index (level 1) and from the copy candidates, scored by
cosine against each event's centroid (not against single members, which would chain), within
the publication window.

Automatic runs only add articles; they never move one that is already placed, so manual
decisions (`archive merge`, `split`, `detach`) stay as they were made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import OrderedDict
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.core import events, matching, metadata, sketch
from archive.db import queries
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
    Source,
    utcnow,
)
from archive.pipeline.extract import Document, Extracted
from archive.pipeline.fingerprint import Fingerprint

_SHINGLE_CACHE = 4096


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


def compress(content: bytes) -> tuple[bytes, str]:
    if len(content) < 512:
        return content, "none"
    import zstandard

    return zstandard.ZstdCompressor(level=3).compress(content), "zstd"


def decompress(content: bytes, compression: str) -> bytes:
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompress(content)
    return content


class Placer:
    """Matches and writes articles; keeps a small cache of candidates' shingle sets."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.config = settings.matching
        self._shingles: OrderedDict[int, np.ndarray] = OrderedDict()
        self._sources: dict[str, int] = {}

    # -- candidates ---------------------------------------------------------------------------

    def shingles_of(self, session: Session, article_id: int) -> np.ndarray:
        cached = self._shingles.get(article_id)
        if cached is not None:
            self._shingles.move_to_end(article_id)
            return cached
        text = session.scalar(select(Article.clean_text).where(Article.id == article_id)) or ""
        value = sketch.shingle_set(text, self.settings.sketch)
        self._shingles[article_id] = value
        if len(self._shingles) > _SHINGLE_CACHE:
            self._shingles.popitem(last=False)
        return value

    def find_copy(self, session: Session, fp: Fingerprint) -> tuple[int, int, matching.Overlap] | None:
        """(copy cluster, matched original, overlap) of the best verified copy match, or None."""
        limit = self.config.max_candidates
        ids = queries.same_text(session, fp.text_hash)
        ids += [a for a, _ in queries.band_candidates(session, 0, fp.copy_keys, limit)]
        if not ids:
            return None
        member_of = queries.membership(session, ids)
        cluster_ids = list(dict.fromkeys(m[COPY] for m in member_of.values() if COPY in m))[:limit]
        reps = dict(
            session.execute(select(Cluster.id, Cluster.representative_id).where(Cluster.id.in_(cluster_ids))).all()
        )
        best = None
        for cluster_id in cluster_ids:
            rep = reps.get(cluster_id)
            if rep is None:
                continue
            ov = matching.overlap(fp.shingles, self.shingles_of(session, rep))
            if matching.is_copy(ov, self.config) and (best is None or matching.copy_score(ov) > matching.copy_score(best[2])):
                best = (cluster_id, rep, ov)
        return best

    def find_event(self, session: Session, fp: Fingerprint, published: dt.datetime | None,
                   extra_articles: list[int]) -> tuple[int, float] | None:
        cfg = self.settings.event_sketch
        hits = queries.band_candidates(session, 1, fp.event_keys, self.config.max_candidates,
                                       bucket_limit=cfg.bucket_limit)
        ids = [a for a, _ in hits] + extra_articles
        if not ids or not fp.event_terms:
            return None
        member_of = queries.membership(session, ids)
        event_ids = list(dict.fromkeys(m[EVENT] for m in member_of.values() if EVENT in m))
        if not event_ids:
            return None
        best = None
        window = self.config.event_window_days
        for cluster in session.scalars(select(Cluster).where(Cluster.id.in_(event_ids))):
            if not matching.within_window(published, cluster.first_published, cluster.last_published, window):
                continue
            score = events.cosine(fp.event_terms, _normalised(cluster.centroid or {}))
            if score >= self.config.event_similarity and (best is None or score > best[1]):
                best = (cluster.id, score)
        return best

    # -- writing ------------------------------------------------------------------------------

    def place(self, session: Session, doc: Document, ex: Extracted, fp: Fingerprint, run_id: int | None) -> Outcome:
        url = article_url(doc)
        if queries.raw_exists(session, doc.sha256) or queries.url_exists(session, url):
            return Outcome("duplicate")
        now = doc.fetched_at or utcnow()
        source_name = doc.source or ex.source or _host(doc.url) or _host(ex.canonical_url) or metadata.byline_outlet(ex.byline)
        source_id = queries.source_id(session, source_name, "file" if not doc.url or doc.url.startswith("file:") else "web",
                                      self._sources) if source_name else None
        content, compression = compress(doc.content)
        raw = RawDocument(
            sha256=doc.sha256, location=doc.location, media_type=doc.media_type, encoding=ex.encoding,
            status_code=doc.status_code, headers=doc.headers, size=len(doc.content), compression=compression,
            content=content, received_at=now,
        )
        session.add(raw)
        session.flush()
        article = Article(
            source_id=source_id, raw_document_id=raw.id, run_id=run_id, url=url,
            canonical_url=ex.canonical_url, title=ex.title, byline=ex.byline, attribution=ex.attribution,
            published_at=ex.published_at, fetched_at=now, language=fp.language, clean_text=ex.text,
            text_hash=fp.text_hash, shingle_count=int(fp.shingles.size),
            signature=sketch.signature_bytes(fp.signature),
            event_terms=fp.event_terms,
            removed=[{"rule": r.rule, "text": r.text} for r in ex.removed],
        )
        copy_match = self.find_copy(session, fp)
        session.add(article)
        session.flush()
        self._shingles[article.id] = fp.shingles
        session.add_all(
            [BandKey(level=0, band=b, key=k, article_id=article.id) for b, k in fp.copy_keys]
            + [BandKey(level=1, band=b, key=k, article_id=article.id) for b, k in fp.event_keys]
        )
        if copy_match:
            cluster_id, rep, ov = copy_match
            copy_cluster = session.get(Cluster, cluster_id)
            self._join_copy(session, copy_cluster, article, rep, ov)
            event_cluster = session.get(Cluster, copy_cluster.event_id)
            self._join_event(session, event_cluster, article, 1.0, {"via": "copy", "copy_cluster": cluster_id})
            return Outcome("copy", article.id, cluster_id, event_cluster.id)
        copy_cluster = self._new_cluster(session, COPY, article)
        session.add(ClusterMember(cluster_id=copy_cluster.id, article_id=article.id, kind=COPY, role=ORIGINAL,
                                  similarity=1.0, evidence={"reason": "first of its text"}))
        candidates = [a for a, _ in queries.band_candidates(session, 0, fp.copy_keys, self.config.max_candidates)]
        event_match = self.find_event(session, fp, article.published_at, [a for a in candidates if a != article.id])
        new_event = event_match is None
        if event_match:
            event_cluster = session.get(Cluster, event_match[0])
            self._join_event(session, event_cluster, article, event_match[1], {"via": "terms"})
        else:
            event_cluster = self._new_cluster(session, EVENT, article)
            event_cluster.centroid = dict(fp.event_terms)
            session.add(ClusterMember(cluster_id=event_cluster.id, article_id=article.id, kind=EVENT, role=MEMBER,
                                      similarity=1.0, evidence={"reason": "first of its event"}))
        copy_cluster.event_id = event_cluster.id
        return Outcome("new", article.id, copy_cluster.id, event_cluster.id, new_event)

    def _new_cluster(self, session: Session, kind: str, article: Article) -> Cluster:
        when = article.published_at or article.fetched_at
        cluster = Cluster(
            kind=kind, representative_id=article.id, size=1, first_seen=when, last_seen=when,
            first_published=article.published_at, last_published=article.published_at,
            original_reason="first of its text" if kind == COPY else None,
        )
        session.add(cluster)
        session.flush()
        session.add(ClusterHistory(action="create", cluster_id=cluster.id, article_id=article.id, actor="ingest"))
        return cluster

    def _touch(self, cluster: Cluster, article: Article) -> None:
        when = article.published_at or article.fetched_at
        cluster.size += 1
        cluster.first_seen = min(filter(None, [cluster.first_seen, when]))
        cluster.last_seen = max(filter(None, [cluster.last_seen, when]))
        if article.published_at:
            cluster.first_published = min(filter(None, [cluster.first_published, article.published_at]))
            cluster.last_published = max(filter(None, [cluster.last_published, article.published_at]))
        cluster.updated_at = utcnow()

    def _join_copy(self, session: Session, cluster: Cluster, article: Article, rep: int, ov: matching.Overlap) -> None:
        self._touch(cluster, article)
        session.add(ClusterMember(cluster_id=cluster.id, article_id=article.id, kind=COPY, role=COPY_ROLE,
                                  similarity=round(matching.copy_score(ov), 4), matched_article_id=rep,
                                  evidence=ov.as_dict()))
        session.flush()
        self.reelect_original(session, cluster)

    def _join_event(self, session: Session, cluster: Cluster, article: Article, score: float, evidence: dict) -> None:
        self._touch(cluster, article)
        cluster.centroid = _add_vectors(cluster.centroid or {}, article.event_terms or {})
        session.add(ClusterMember(cluster_id=cluster.id, article_id=article.id, kind=EVENT, role=MEMBER,
                                  similarity=round(score, 4), evidence=evidence))
        session.add(ClusterHistory(action="join", cluster_id=cluster.id, article_id=article.id, actor="ingest",
                                   detail=f"similarity {score:.3f}"))

    def reelect_original(self, session: Session, cluster: Cluster) -> None:
        """Choose the copy cluster's original by evidence and set the members' roles."""
        rows = session.execute(
            select(Article.id, Article.published_at, Article.fetched_at, Article.attribution, Source.name,
                   Article.canonical_url, Article.url)
            .join(ClusterMember, ClusterMember.article_id == Article.id)
            .outerjoin(Source, Source.id == Article.source_id)
            .where(ClusterMember.cluster_id == cluster.id)
        ).all()
        original, reason = matching.choose_original([matching.Candidate(*row) for row in rows])
        cluster.original_reason = reason
        if original == cluster.representative_id:
            return
        cluster.representative_id = original
        for member in session.scalars(select(ClusterMember).where(ClusterMember.cluster_id == cluster.id)):
            member.role = ORIGINAL if member.article_id == original else COPY_ROLE


def _add_vectors(total: dict[str, float], vector: dict[str, float], limit: int = 100) -> dict[str, float]:
    """The running sum of member vectors (an event's centroid before normalisation), truncated."""
    out = dict(total)
    for term, weight in vector.items():
        out[term] = round(out.get(term, 0.0) + weight, 5)
    if len(out) > limit:
        out = dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])
    return out


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = sum(w * w for w in vector.values()) ** 0.5 or 1.0
    return {t: w / norm for t, w in vector.items()}


def _host(url: str | None) -> str | None:
    if url and url.startswith(("http://", "https://")):
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.") or None
    return None
