"""SQLAlchemy 2 models of the archive. The schema is created and changed only by Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

intpk = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
timestamp = Annotated[dt.datetime, mapped_column(DateTime)]
# BigInteger primary keys are plain INTEGER on SQLite so they alias the rowid.
bigint = BigInteger().with_variant(Integer(), "sqlite")

COPY = "copy"
EVENT = "event"
ORIGINAL = "original"
COPY_ROLE = "copy"
MEMBER = "member"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    """Key-value facts about the archive itself (the sketch parameters its signatures use)."""

    __tablename__ = "archive_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Source(Base):
    __tablename__ = "sources"
    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="file")
    home_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)


class IngestRun(Base):
    __tablename__ = "ingest_runs"
    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(20))  # ingest, crawl, scheduled
    job_name: Mapped[str | None] = mapped_column(String(200))
    args: Mapped[dict[str, Any] | None]
    started_at: Mapped[timestamp] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, ok, failed, interrupted
    read: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    copies: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    events_touched: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)


class RawDocument(Base):
    """The exact bytes as received (zstd-compressed at rest when `compression` says so)."""

    __tablename__ = "raw_documents"
    id: Mapped[intpk]
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    location: Mapped[str] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(String(100))
    encoding: Mapped[str | None] = mapped_column(String(40))
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, Any] | None]
    size: Mapped[int] = mapped_column(BigInteger)
    compression: Mapped[str] = mapped_column(String(10), default="none")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[timestamp] = mapped_column(default=utcnow)


class Article(Base):
    __tablename__ = "articles"
    id: Mapped[intpk]
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True)
    raw_document_id: Mapped[int | None] = mapped_column(ForeignKey("raw_documents.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)  # canonical URL, or file:// path
    canonical_url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(Text)
    byline: Mapped[str | None] = mapped_column(String(500))
    attribution: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    fetched_at: Mapped[timestamp] = mapped_column(default=utcnow, index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    clean_text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    shingle_count: Mapped[int] = mapped_column(Integer, default=0)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    # Sorted distinct shingle hashes (little-endian uint32), for exact copy checks without
    # re-shingling the text; NULL for articles stored before migration 0004.
    shingles: Mapped[bytes | None] = mapped_column(LargeBinary)
    event_terms: Mapped[dict[str, Any] | None]
    removed: Mapped[list[Any] | None]  # [{"rule": ..., "text": ...}] boilerplate kept for audit

    source: Mapped[Source | None] = relationship()


class BandKey(Base):
    """The persistent index: level 0 is the copy LSH (one row per band of the MinHash signature),
    level 1 the event index (band 0, one row per salient term; see `archive.core.events`)."""

    __tablename__ = "band_keys"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # 0 copy, 1 event
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    # On SQLite the primary-key B-tree is the table (migration 0005): a rowid table kept each row twice.
    # No index on article_id (migration 0007): the ingest path never reads keys by article.
    __table_args__ = ({"sqlite_with_rowid": False},)


class Cluster(Base):
    __tablename__ = "clusters"
    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(10), index=True)  # copy or event
    representative_id: Mapped[int | None] = mapped_column(Integer)  # checked by `archive check`
    event_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)  # copy -> event
    size: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    last_seen: Mapped[dt.datetime | None] = mapped_column(DateTime)
    first_published: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_published: Mapped[dt.datetime | None] = mapped_column(DateTime)
    original_reason: Mapped[str | None] = mapped_column(Text)
    centroid: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(10), default="active")  # active or merged
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[timestamp] = mapped_column(default=utcnow)


class ClusterMember(Base):
    __tablename__ = "cluster_members"
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # copies the cluster's kind for the one-per-kind rule
    role: Mapped[str] = mapped_column(String(10))  # original or copy (copy clusters), member (events)
    similarity: Mapped[float | None] = mapped_column(Float)
    matched_article_id: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[dict[str, Any] | None]
    added_at: Mapped[timestamp] = mapped_column(default=utcnow)
    __table_args__ = (
        UniqueConstraint("article_id", "kind", name="uq_cluster_members_article_kind"),
        # Memberships are read by article from this index alone (migration 0006); lookups by
        # cluster use the primary key (cluster_id, article_id).
        Index("ix_cluster_members_membership", "article_id", "kind", "cluster_id"),
    )


class ClusterHistory(Base):
    """Every creation, merge, split and manual change of a cluster, for stable ids with a past."""

    __tablename__ = "cluster_history"
    id: Mapped[intpk]
    at: Mapped[timestamp] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    cluster_id: Mapped[int] = mapped_column(Integer, index=True)
    other_cluster_id: Mapped[int | None] = mapped_column(Integer)
    article_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)


class Decision(Base):
    """A manual must-link or cannot-link between two articles, honoured by every later run."""

    __tablename__ = "decisions"
    id: Mapped[intpk]
    at: Mapped[timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(20))  # merge, split, detach
    level: Mapped[str] = mapped_column(String(10))  # copy or event
    link: Mapped[str] = mapped_column(String(12))  # must-link or cannot-link
    article_a: Mapped[int] = mapped_column(Integer, index=True)
    article_b: Mapped[int | None] = mapped_column(Integer, index=True)


class RejectedInput(Base):
    __tablename__ = "rejected_inputs"
    id: Mapped[intpk]
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"), index=True)
    location: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[timestamp] = mapped_column(default=utcnow)


class JobLock(Base):
    """A named lock with expiry, so two schedulers never run one job at once (SQLite)."""

    __tablename__ = "job_locks"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FetchState(Base):
    """What a crawler last saw at a URL, for conditional requests on recrawl."""

    __tablename__ = "fetch_state"
    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(400))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[int | None] = mapped_column(Integer)
    article_id: Mapped[int | None] = mapped_column(Integer)
    checked_at: Mapped[timestamp] = mapped_column(default=utcnow)


class LoadedFile(Base):
    """Content hashes of files a load job has seen, so a renamed file is not new."""

    __tablename__ = "loaded_files"
    job_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[timestamp] = mapped_column(default=utcnow)


class SourcePhrase(Base):
    """Lines or phrases seen across a source's articles: frequent ones are that source's boilerplate."""

    __tablename__ = "source_phrases"
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    phrase_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    phrase: Mapped[str] = mapped_column(Text)  # stored once learned; "" while only counted
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[timestamp] = mapped_column(default=utcnow)


class RecentSourcePhrase(Base):
    """Counts added since they were last folded into `source_phrases` (SQLite; see `archive.db.phrases`):
    a phrase's count is its row there plus its row here."""

    __tablename__ = "source_phrases_recent"
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    phrase_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    phrase: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[timestamp] = mapped_column(default=utcnow)
    __table_args__ = ({"sqlite_with_rowid": False},)  # the key B-tree is the table: one write per row


class SchedulerJob(Base):
    """APScheduler's job store, in the layout its SQLAlchemyJobStore expects (pickled job state).

    Declared here so that Alembic creates it and the drift check knows it; APScheduler itself
    never creates tables in the archive (see `archive.scheduler.ArchiveJobStore`).
    """

    __tablename__ = "apscheduler_jobs"
    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)
