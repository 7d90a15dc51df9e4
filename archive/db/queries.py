"""Query functions over the archive; each takes a Session owned by the caller."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from archive.db.models import (
    Article,
    Cluster,
    ClusterMember,
    IngestRun,
    Meta,
    RawDocument,
    Source,
)
from archive.errors import NotFound


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row:
        row.value = value
    else:
        session.add(Meta(key=key, value=value))


def count_up_meta(session: Session, key: str) -> None:
    """Add one to the counter kept under `key` (0 when there is none yet), in the session's transaction."""
    set_meta(session, key, str(int(get_meta(session, key) or 0) + 1))


INDEX_GENERATION = "index_generation"


def bump_index_generation(session: Session) -> None:
    """Count a rewrite of existing band keys, so writers holding postings in memory read them again
    (`archive.pipeline.postings`; new articles' keys show by their ids)."""
    count_up_meta(session, INDEX_GENERATION)


def source_id(session: Session, name: str, kind: str = "file", cache: dict[str, int] | None = None) -> int:
    if cache is not None and name in cache:
        return cache[name]
    found = session.scalar(select(Source.id).where(Source.name == name))
    if found is None:
        src = Source(name=name, kind=kind)
        session.add(src)
        session.flush()
        found = src.id
    if cache is not None:
        cache[name] = found
    return found


def raw_exists(session: Session, sha256: str) -> int | None:
    return session.scalar(select(RawDocument.id).where(RawDocument.sha256 == sha256))


def url_exists(session: Session, url: str) -> int | None:
    return session.scalar(select(Article.id).where(Article.url == url))


def same_text(session: Session, text_hash: str, limit: int = 5) -> list[int]:
    return list(session.scalars(select(Article.id).where(Article.text_hash == text_hash).limit(limit)))


def membership(session: Session, article_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """article id -> {"copy": cluster id, "event": cluster id}."""
    out: dict[int, dict[str, int]] = {}
    ids = list(article_ids)
    if not ids:
        return out
    rows = session.execute(
        select(ClusterMember.article_id, ClusterMember.kind, ClusterMember.cluster_id).where(
            ClusterMember.article_id.in_(ids)
        )
    )
    for article_id, kind, cluster_id in rows:
        out.setdefault(article_id, {})[kind] = cluster_id
    return out


def article(session: Session, article_id: int) -> Article:
    found = session.get(Article, article_id)
    if found is None:
        raise NotFound(f"no article with id {article_id}: `archive clusters` lists what the archive holds")
    return found


def cluster(session: Session, cluster_id: int) -> Cluster:
    found = session.get(Cluster, cluster_id)
    if found is None:
        raise NotFound(f"no cluster with id {cluster_id}: `archive clusters` lists what the archive holds")
    return found


def cluster_members(session: Session, cluster_id: int) -> list[tuple[ClusterMember, Article]]:
    return list(
        session.execute(
            select(ClusterMember, Article)
            .join(Article, Article.id == ClusterMember.article_id)
            .where(ClusterMember.cluster_id == cluster_id)
            .order_by(func.coalesce(Article.published_at, Article.fetched_at), Article.id)
        )
    )


def clusters_query(kind: str | None = None, min_size: int = 1) -> Select:
    q = select(Cluster).where(Cluster.status == "active", Cluster.size >= min_size)
    if kind:
        q = q.where(Cluster.kind == kind)
    return q.order_by(Cluster.size.desc(), Cluster.id)


def source_names(session: Session, source_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {i for i in source_ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Source.id, Source.name).where(Source.id.in_(ids))).all())


def last_run(session: Session) -> IngestRun | None:
    return session.scalar(select(IngestRun).order_by(IngestRun.id.desc()).limit(1))


def counts(session: Session) -> dict[str, int]:
    return {
        "articles": session.scalar(select(func.count()).select_from(Article)) or 0,
        "sources": session.scalar(select(func.count()).select_from(Source)) or 0,
        "copy_clusters": session.scalar(
            select(func.count()).select_from(Cluster).where(Cluster.kind == "copy", Cluster.status == "active")
        ) or 0,
        "event_clusters": session.scalar(
            select(func.count()).select_from(Cluster).where(Cluster.kind == "event", Cluster.status == "active")
        ) or 0,
        "raw_documents": session.scalar(select(func.count()).select_from(RawDocument)) or 0,
    }
