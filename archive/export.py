"""Stream articles or clusters out as JSON Lines or CSV, in bounded memory.

Rows are read in chunks (`yield_per`) and written as they come; a time filter compares each
article's (or cluster's) time: publication time, else fetch time.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from archive.db.models import COPY, EVENT, Article, Cluster, ClusterMember, Source

CHUNK = 500
ARTICLE_FIELDS = ("id", "url", "title", "source", "published_at", "fetched_at", "language", "byline",
                  "attribution", "copy_cluster", "event_cluster", "role", "original_id", "text")
CLUSTER_FIELDS = ("id", "kind", "event_id", "size", "first_seen", "last_seen", "first_published",
                  "last_published", "representative_id", "title", "original_reason", "sources", "articles")


def article_rows(session: Session, since: dt.datetime | None = None, until: dt.datetime | None = None,
                 with_text: bool = True) -> Iterator[dict[str, Any]]:
    copy_m, event_m, copy_c = aliased(ClusterMember), aliased(ClusterMember), aliased(Cluster)
    when = func.coalesce(Article.published_at, Article.fetched_at)
    q = (
        select(Article.id, Article.url, Article.title, Source.name, Article.published_at, Article.fetched_at,
               Article.language, Article.byline, Article.attribution, copy_m.cluster_id, event_m.cluster_id,
               copy_m.role, copy_c.representative_id, Article.clean_text if with_text else Article.id)
        .outerjoin(Source, Source.id == Article.source_id)
        .outerjoin(copy_m, (copy_m.article_id == Article.id) & (copy_m.kind == COPY))
        .outerjoin(copy_c, copy_c.id == copy_m.cluster_id)
        .outerjoin(event_m, (event_m.article_id == Article.id) & (event_m.kind == EVENT))
        .order_by(Article.id)
    )
    if since:
        q = q.where(when >= since)
    if until:
        q = q.where(when <= until)
    fields = ARTICLE_FIELDS if with_text else ARTICLE_FIELDS[:-1]
    for row in session.execute(q.execution_options(yield_per=CHUNK)):
        yield dict(zip(fields, (_plain(v) for v in row)))


def cluster_rows(session: Session, since: dt.datetime | None = None, until: dt.datetime | None = None,
                 kind: str | None = None) -> Iterator[dict[str, Any]]:
    rep = aliased(Article)
    q = (
        select(Cluster.id, Cluster.kind, Cluster.event_id, Cluster.size, Cluster.first_seen, Cluster.last_seen,
               Cluster.first_published, Cluster.last_published, Cluster.representative_id, rep.title,
               Cluster.original_reason)
        .outerjoin(rep, rep.id == Cluster.representative_id)
        .where(Cluster.status == "active")
        .order_by(Cluster.id)
    )
    if kind:
        q = q.where(Cluster.kind == kind)
    if since:
        q = q.where(Cluster.last_seen >= since)
    if until:
        q = q.where(Cluster.first_seen <= until)
    chunk: list[dict[str, Any]] = []
    for row in session.execute(q.execution_options(yield_per=CHUNK)):
        chunk.append(dict(zip(CLUSTER_FIELDS, (_plain(v) for v in row))))
        if len(chunk) >= CHUNK:
            yield from _with_members(session, chunk)
            chunk = []
    yield from _with_members(session, chunk)


def _with_members(session: Session, chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not chunk:
        return chunk
    members: dict[int, list[int]] = {}
    sources: dict[int, set[str]] = {}
    rows = session.execute(
        select(ClusterMember.cluster_id, ClusterMember.article_id, Source.name)
        .join(Article, Article.id == ClusterMember.article_id)
        .outerjoin(Source, Source.id == Article.source_id)
        .where(ClusterMember.cluster_id.in_([c["id"] for c in chunk]))
        .order_by(ClusterMember.cluster_id, ClusterMember.article_id)
    )
    for cluster_id, article_id, name in rows:
        members.setdefault(cluster_id, []).append(article_id)
        if name:
            sources.setdefault(cluster_id, set()).add(name)
    for c in chunk:
        c["sources"] = sorted(sources.get(c["id"], ()))
        c["articles"] = members.get(c["id"], [])
    return chunk


def write(rows: Iterator[dict[str, Any]], fmt: str, out: IO[str], fields: tuple[str, ...], on_row=None) -> int:
    """Write rows as jsonl or csv (lists joined with ';'); returns how many were written."""
    count = 0
    writer = csv.DictWriter(out, fieldnames=list(fields)) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    for row in rows:
        if writer:
            writer.writerow({k: ";".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
        if on_row:
            on_row(count)
    return count


def _plain(value: Any) -> Any:
    return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, dt.datetime) else value
