"""The library API: everything the CLI, the scheduler and the spiders do goes through `Archive`."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import check as checks
from archive import crawl, curation, explain, overview, recluster, reporting, similar
from archive import export as exporting
from archive.config import Settings, load_settings
from archive.db import backup, migrate, queries, runs
from archive.db.engine import make_engine, mask_url, session_factory
from archive.db.models import Article, Cluster
from archive.db.readonly import QueryResult
from archive.errors import BadInput, WatchedPathMissing
from archive.pipeline.crawl import CrawlSession
from archive.pipeline.extract import Document
from archive.pipeline.incremental import IncrementalLoad
from archive.pipeline.ingest import Ingestor, ProgressCallback, Summary
from archive.pipeline.loaders import Rejection, load
from archive.pipeline.raw import decompress


class Archive:
    """One archive database with its settings."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or load_settings()
        self.engine = make_engine(self.settings.database_url, sqlite_cache_mb=self.settings.sqlite_cache_mb)
        self.factory = session_factory(self.engine)

    @property
    def url(self) -> str:
        """The database URL with its password masked."""
        return mask_url(self.settings.database_url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------

    def upgrade(self) -> str | None:
        """Create or upgrade the schema through Alembic; returns the revision now current."""
        migrate.upgrade(self.settings.database_url)
        return migrate.current_revision(self.engine)

    def require_schema(self) -> None:
        # Checked once per Archive: reading Alembic's scripts costs tens of milliseconds, which
        # repeated queries (`similar` from a service) should not pay each time.
        if not getattr(self, "_schema_checked", False):
            migrate.require_current(self.engine, self.settings.database_url)
            self._schema_checked = True

    # -- ingest ------------------------------------------------------------------------------

    @functools.cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.settings, self.factory)

    def ingest_paths(self, paths: Sequence[str | Path], progress: ProgressCallback | None = None,
                     kind: str = "ingest", job_name: str | None = None, workers: int | None = None) -> Summary:
        """Ingest files, folders, JSONL and WARC; `workers` processes prepare batches (0: this one;
        None: one per CPU once the input holds more than one batch, see `Ingestor`)."""
        self.require_schema()
        return self.ingestor.run(load(paths), kind=kind, args={"paths": [str(p) for p in paths]},
                                 job_name=job_name, progress=progress, workers=workers)

    def ingest_documents(self, documents: Iterable[Document | Rejection], kind: str = "ingest",
                         args: dict | None = None, job_name: str | None = None,
                         progress: ProgressCallback | None = None, workers: int | None = None) -> Summary:
        self.require_schema()
        return self.ingestor.run(documents, kind=kind, args=args, job_name=job_name, progress=progress,
                                 workers=workers)

    # -- crawling ----------------------------------------------------------------------------

    def crawl_sources(self) -> list[crawl.CrawlSource]:
        """The sources declared in the configuration file (checked)."""
        return crawl.parse_sources(self.settings.sources)

    def crawl(self, source: str, progress: crawl.ProgressCallback | None = None, log_level: str = "WARNING",
              show_log: bool = False) -> crawl.CrawlSummary:
        """Crawl one declared source in a child process (see `archive.crawl.run_crawl`)."""
        declared = crawl.find_source(self.settings, source)
        self.require_schema()
        return crawl.run_crawl(self.settings, declared, progress, log_level, show_log)

    def crawl_session(self, source: crawl.CrawlSource, batch_size: int = 20) -> CrawlSession:
        """The archive side of a crawl running in this process (used by the spiders)."""
        self.require_schema()
        return CrawlSession(self.ingestor, self.factory, source.name, batch_size, home_url=source.urls[0])

    def load_new(self, target: str, job_name: str, kind: str = "scheduled", args: dict | None = None,
                 progress: ProgressCallback | None = None) -> Summary:
        """Ingest the files under `target` (folder, file or glob) that job `job_name` has not loaded yet.

        Files are known by content hash, so a renamed file is not new and an edited one is.
        """
        self.require_schema()
        args = {"load": target, **(args or {})}
        loader = IncrementalLoad(self.factory, job_name, target)
        try:
            loader.check()
        except WatchedPathMissing as exc:  # recorded like any failed run, without a traceback
            self.ingestor.finish_run(self.ingestor.start_run(kind, args, job_name), "failed", str(exc))
            raise

        def processed(summary: Summary, item: Document | Rejection) -> None:
            loader.processed(summary, item)
            if progress:
                progress(summary, item)

        return self.ingestor.run(loader.items(), kind=kind, args=args, job_name=job_name, progress=processed)

    def runs(self, limit: int = 20, job_name: str | None = None) -> list[dict[str, Any]]:
        """The latest runs (ingest, crawl, scheduled), newest first, with counts and status."""
        with self.factory() as session:
            return [runs.as_dict(r) for r in runs.recent(session, limit, job_name)]

    # -- reading -----------------------------------------------------------------------------

    def session(self) -> Session:
        return self.factory()

    def clusters(self, kind: str | None = None, min_size: int = 1, limit: int | None = None,
                 where: overview.ClusterFilter | None = None) -> list[dict[str, Any]]:
        """Active clusters with their members; `where` holds every filter (kind, times, source...)."""
        where = where or overview.ClusterFilter(kind=kind, min_size=min_size, limit=limit)
        with self.factory() as session:
            return [self._cluster_dict(session, c) for c in session.scalars(overview.clusters_query(where))]

    # -- curation ----------------------------------------------------------------------------

    def merge(self, keep_id: int, other_id: int, by: str | None = None, note: str | None = None) -> dict:
        """Merge cluster `other_id` into `keep_id`, recorded as a manual decision."""
        self.require_schema()
        with self.factory() as session, session.begin():
            return curation.merge(session, keep_id, other_id, curation.Actor.current(by, note))

    def split(self, cluster_id: int, article_ids: Sequence[int], by: str | None = None,
              note: str | None = None) -> dict:
        """Move articles out of a cluster into a new one, recorded as a manual decision."""
        self.require_schema()
        with self.factory() as session, session.begin():
            return curation.split(session, cluster_id, article_ids, curation.Actor.current(by, note))

    def detach(self, article_id: int, level: str = "copy", by: str | None = None, note: str | None = None) -> dict:
        """Take an article out of its copy cluster (or its event), recorded as a manual decision."""
        self.require_schema()
        with self.factory() as session, session.begin():
            return curation.detach(session, article_id, curation.Actor.current(by, note), level)

    def recluster(self, copy_threshold: float | None = None, event_threshold: float | None = None,
                  dry_run: bool = True, progress: recluster.ProgressCallback | None = None) -> dict:
        """Rebuild clusters from stored signatures, texts and term vectors with these thresholds,
        honouring manual decisions; write the result only when `dry_run` is False."""
        self.require_schema()
        with self.factory() as session, session.begin():
            if not dry_run:  # hold the writers off from the first read to the last write
                recluster.lock(session)
            try:
                the_plan = recluster.plan(session, self.settings, copy_threshold, event_threshold, progress)
            except ValueError as exc:  # a threshold outside (0, 1]
                raise BadInput(str(exc)) from None
            if not dry_run:
                recluster.apply(session, the_plan)
            return {"dry_run": dry_run, **the_plan.summary()}

    def calibrate(self, labels: str | Path, target_precision: float | None = None,
                  write: bool = True) -> dict[str, Any]:
        """Precision and recall of the matching thresholds over labelled pairs of archived articles;
        the chosen thresholds go to the [matching] table of the configuration file unless `write` is False."""
        from archive import calibrate
        from archive.config import write_section

        self.require_schema()
        pairs = calibrate.read_labels(Path(labels))
        with self.factory() as session:
            result = calibrate.calibrate(session, self.settings, pairs, target_precision)
        out = result.as_dict()
        path = self.settings.config_path or Path("archive.toml")
        out["config"] = str(path)
        out["written"] = bool(write and result.chosen)
        if out["written"]:
            write_section(path, "matching", result.chosen)
        return out

    def decisions(self, limit: int | None = None) -> list[dict]:
        with self.factory() as session:
            return curation.decisions(session, limit)

    # -- explaining --------------------------------------------------------------------------

    def compare(self, a_id: int, b_id: int) -> dict[str, Any]:
        """Why two archived articles match or not: figures, verdicts and shared passages."""
        self.require_schema()
        with self.factory() as session:
            a, b = queries.article(session, a_id), queries.article(session, b_id)
            result = explain.compare(explain.Side(a.clean_text, a.signature, a.event_terms or {}, a.title),
                                     explain.Side(b.clean_text, b.signature, b.event_terms or {}, b.title),
                                     self.settings.sketch, self.settings.matching)
            member = queries.membership(session, [a.id, b.id])
            names = queries.source_names(session, [a.source_id, b.source_id])
            sides = {}
            for key, art in (("a", a), ("b", b)):
                sides[key] = {"id": art.id, "title": art.title, "source": names.get(art.source_id),
                              "published_at": _iso(art.published_at), "copy_cluster": member.get(art.id, {}).get("copy"),
                              "event_cluster": member.get(art.id, {}).get("event"), "text": art.clean_text}
            same = {level: sides["a"][f"{level}_cluster"] == sides["b"][f"{level}_cluster"] for level in ("copy", "event")}
            return {**sides, **result, "same_copy_cluster": same["copy"], "same_event_cluster": same["event"]}

    def similar(self, path: str | None = None, text: str | None = None, url: str | None = None,
                top: int = 10) -> dict[str, Any]:
        """The nearest archived articles to a file, a text or a web page; nothing is stored."""
        self.require_schema()
        doc = similar.document_from(path, text, url)
        with self.factory() as session:
            try:
                return similar.nearest(session, self.settings, doc, top)
            finally:
                session.rollback()

    def export(self, what: str, fmt: str, out, since=None, until=None, with_text: bool = True,
               on_row=None) -> int:
        """Stream articles or clusters to `out` as jsonl or csv; returns the number of rows."""
        self.require_schema()
        with self.factory() as session:
            if what == "articles":
                rows = exporting.article_rows(session, since, until, with_text)
                fields = exporting.ARTICLE_FIELDS if with_text else exporting.ARTICLE_FIELDS[:-1]
            else:
                rows, fields = exporting.cluster_rows(session, since, until), exporting.CLUSTER_FIELDS
            return exporting.write(rows, fmt, out, fields, on_row)

    # -- reports -----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self.factory() as session:
            return overview.stats(session)

    def sql(self, query: str) -> QueryResult:
        """Run one statement read-only (`archive sql`)."""
        return reporting.run_sql(self.settings.database_url, query)

    def report(self, name: str, since=None, until=None, limit: int | None = None) -> QueryResult:
        """Run a named report from archive/reports (`archive report`)."""
        return reporting.run_report(self.settings.database_url, name, since, until, limit)

    def cluster(self, cluster_id: int) -> dict[str, Any]:
        with self.factory() as session:
            return self._cluster_dict(session, queries.cluster(session, cluster_id))

    def _cluster_dict(self, session: Session, c: Cluster) -> dict[str, Any]:
        members = queries.cluster_members(session, c.id)
        names = queries.source_names(session, [a.source_id for _, a in members])
        rep = next((a for _, a in members if a.id == c.representative_id), None)
        copy_of = queries.membership(session, [a.id for _, a in members]) if c.kind == "event" else {}
        originals = overview.originals_of(session, [a.id for _, a in members])
        return {
            "id": c.id,
            "kind": c.kind,
            "size": c.size,
            "first_seen": _iso(c.first_seen),
            "last_seen": _iso(c.last_seen),
            "representative_id": c.representative_id,
            "title": rep.title if rep else None,
            "event_id": c.event_id,
            "original_reason": c.original_reason,
            "status": c.status,
            "merged_into": c.merged_into,
            "sources": sorted({names[a.source_id] for _, a in members if a.source_id in names}),
            "articles": [
                {
                    "id": a.id,
                    "title": a.title,
                    "source": names.get(a.source_id),
                    "url": a.url,
                    "published_at": _iso(a.published_at),
                    "fetched_at": _iso(a.fetched_at),
                    "role": m.role,
                    "similarity": m.similarity,
                    "evidence": m.evidence,
                    "original_id": originals.get(a.id, (None, None))[0],
                    "delay_seconds": overview.delay_seconds(a.published_at or a.fetched_at,
                                                            originals.get(a.id, (None, None))[1]),
                    **({"copy_cluster": copy_of.get(a.id, {}).get("copy")} if c.kind == "event" else {}),
                }
                for m, a in members
            ],
        }

    def article(self, article_id: int, with_raw: bool = False) -> dict[str, Any]:
        with self.factory() as session:
            a = queries.article(session, article_id)
            names = queries.source_names(session, [a.source_id])
            member = queries.membership(session, [a.id]).get(a.id, {})
            out = {
                "id": a.id,
                "url": a.url,
                "canonical_url": a.canonical_url,
                "title": a.title,
                "byline": a.byline,
                "attribution": a.attribution,
                "source": names.get(a.source_id),
                "published_at": _iso(a.published_at),
                "fetched_at": _iso(a.fetched_at),
                "language": a.language,
                "text_hash": a.text_hash,
                "copy_cluster": member.get("copy"),
                "event_cluster": member.get("event"),
                "clean_text": a.clean_text,
                "removed": a.removed or [],
            }
            if with_raw and a.raw_document_id:
                from archive.db.models import RawDocument

                raw = session.get(RawDocument, a.raw_document_id)
                out["raw"] = {"sha256": raw.sha256, "location": raw.location, "size": raw.size,
                              "encoding": raw.encoding, "media_type": raw.media_type}
            return out

    def raw_bytes(self, article_id: int) -> bytes:
        from archive.db.models import RawDocument

        with self.factory() as session:
            a = queries.article(session, article_id)
            raw = session.get(RawDocument, a.raw_document_id)
            return decompress(raw.content, raw.compression)

    def find_article(self, url: str) -> int | None:
        with self.factory() as session:
            return session.scalar(select(Article.id).where(Article.url == url))

    def counts(self) -> dict[str, int]:
        with self.factory() as session:
            return queries.counts(session)

    # -- integrity ---------------------------------------------------------------------------

    def check(self, repair: bool = False) -> "checks.Report":
        """The archive's invariants; with `repair`, derivable violations are mended first."""
        self.require_schema()
        repaired: dict[str, int] = {}
        if repair:
            with self.factory() as session, session.begin():
                repaired = checks.repair(session, self.settings)
        with self.factory() as session:
            report = checks.check(session, self.settings)
        report.repaired = repaired
        return report

    def backup(self, target: str | Path) -> dict[str, object]:
        """A consistent copy of a SQLite archive, safe while ingest runs (PostgreSQL: use pg_dump)."""
        return backup.backup(self.settings.database_url, target)


def _iso(value) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None
