"""What the admin CLI reads: archive statistics, filtered cluster listings, cluster timelines.

Every filter reaches SQL as a bound parameter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from archive.db import queries
from archive.db.models import COPY, COPY_ROLE, Article, Cluster, ClusterMember, IngestRun, RejectedInput, Source

SORTS = ("size", "recent")


@dataclasses.dataclass(frozen=True)
class ClusterFilter:
    """Which clusters a listing shows. Times compare with each cluster's first and last seen
    (publication time, else fetch time): a cluster is shown when it was active in [since, until]."""

    kind: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    source: str | None = None
    min_size: int = 1
    title: str | None = None
    sort: str = "size"
    limit: int | None = None


def clusters_query(f: ClusterFilter) -> Select:
    q = select(Cluster).where(Cluster.status == "active", Cluster.size >= f.min_size)
    if f.kind:
        q = q.where(Cluster.kind == f.kind)
    if f.since:
        q = q.where(Cluster.last_seen >= f.since)
    if f.until:
        q = q.where(Cluster.first_seen <= f.until)
    if f.source:
        q = q.where(exists(
            select(ClusterMember.article_id)
            .join(Article, Article.id == ClusterMember.article_id)
            .join(Source, Source.id == Article.source_id)
            .where(ClusterMember.cluster_id == Cluster.id, Source.name == f.source)
        ))
    if f.title:
        rep = aliased(Article)
        pattern = "%" + f.title.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(exists(select(rep.id).where(rep.id == Cluster.representative_id,
                                                rep.title.ilike(pattern, escape="\\"))))
    if f.sort == "recent":
        q = q.order_by(Cluster.last_seen.desc(), Cluster.id.desc())
    else:
        q = q.order_by(Cluster.size.desc(), Cluster.id)
    if f.limit:
        q = q.limit(f.limit)
    return q


def stats(session: Session, top: int = 5) -> dict[str, Any]:
    """Counts, the share of articles that are copies, the largest clusters and the last run."""
    counts = queries.counts(session)
    copies = session.scalar(
        select(func.count()).select_from(ClusterMember).where(ClusterMember.kind == COPY,
                                                              ClusterMember.role == COPY_ROLE)
    ) or 0
    largest = {}
    for kind in ("event", "copy"):
        rows = session.execute(
            select(Cluster.id, Cluster.size, Article.title)
            .outerjoin(Article, Article.id == Cluster.representative_id)
            .where(Cluster.kind == kind, Cluster.status == "active")
            .order_by(Cluster.size.desc(), Cluster.id).limit(top)
        )
        largest[kind] = [{"id": i, "size": s, "title": t} for i, s, t in rows]
    run = queries.last_run(session)
    return {
        "articles": counts["articles"],
        "sources": counts["sources"],
        "copy_clusters": counts["copy_clusters"],
        "event_clusters": counts["event_clusters"],
        "copies": copies,
        "copy_share": round(copies / counts["articles"], 4) if counts["articles"] else 0.0,
        "rejected_inputs": session.scalar(select(func.count()).select_from(RejectedInput)) or 0,
        "largest_events": largest["event"],
        "largest_copy_clusters": largest["copy"],
        "last_run": _run_dict(run) if run else None,
    }


def _run_dict(run: IngestRun) -> dict[str, Any]:
    return {
        "id": run.id, "kind": run.kind, "status": run.status, "job_name": run.job_name,
        "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
        "read": run.read, "new": run.new, "copies": run.copies, "duplicates": run.duplicates,
        "rejected": run.rejected, "error": run.error,
    }


def originals_of(session: Session, article_ids: list[int]) -> dict[int, tuple[int, dt.datetime | None]]:
    """article id -> (original of its copy cluster, that original's time)."""
    if not article_ids:
        return {}
    original = aliased(Article)
    rows = session.execute(
        select(ClusterMember.article_id, original.id, func.coalesce(original.published_at, original.fetched_at))
        .join(Cluster, Cluster.id == ClusterMember.cluster_id)
        .join(original, original.id == Cluster.representative_id)
        .where(ClusterMember.kind == COPY, ClusterMember.article_id.in_(article_ids))
    )
    return {a: (o, when) for a, o, when in rows}


def delay_seconds(later: dt.datetime | None, earlier: dt.datetime | None) -> int | None:
    if later is None or earlier is None:
        return None
    return round((later - earlier).total_seconds())


def format_delay(seconds: int | None) -> str:
    """'+2d 03h', '+1h 05m', '+42s', '' for none; a negative delay keeps its sign."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else "+"
    s = abs(seconds)
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def _iso(value) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None
