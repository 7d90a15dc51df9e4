"""A crawl's side of the archive: its ingest run, batched ingest of pages, and fetch state.

The spiders stay thin: they ask `lookup` before a request (already archived? validators for a
conditional request?), hand every page to `add`, and the session ingests pages in batches through
the same `Ingestor` as the file loaders, so a crawled article is cleaned, fingerprinted and
clustered exactly like a loaded file.

Validators of pages that were archived (or rejected) are stored at once; those of hub pages
(feeds, sitemaps, indexes) only when the crawl ends well, so a crawl that was cut short fetches its
hubs in full next time instead of trusting a 304 for links it never followed.
"""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Article, FetchState, Source, utcnow
from archive.pipeline.batch import prepare_batch
from archive.pipeline.extract import Document
from archive.pipeline.ingest import Ingestor, Summary
from archive.pipeline.loaders import Rejection
from archive.urls import canonical_url

log = logging.getLogger(__name__)


@dataclasses.dataclass
class FetchRecord:
    """What the server said about a URL: kept for conditional requests on the next crawl."""

    url: str
    status: int | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclasses.dataclass
class FetchHint:
    archived: bool
    etag: str | None = None
    last_modified: str | None = None


class CrawlSession:
    """One crawl of one source against one archive; not thread-safe (one per crawler process)."""

    def __init__(self, ingestor: Ingestor, factory: sessionmaker[Session], source: str,
                 batch_size: int = 20, home_url: str | None = None):
        self.ingestor = ingestor
        self.factory = factory
        self.source = source
        self.batch_size = batch_size
        self.home_url = home_url
        self.summary: Summary | None = None
        self._pending: list[tuple[Document | Rejection, FetchRecord | None]] = []
        self._hubs: dict[str, FetchRecord] = {}

    def start(self, args: dict) -> Summary:
        self._ensure_source()
        self.summary = self.ingestor.start_run("crawl", args, job_name=self.source)
        return self.summary

    def _ensure_source(self) -> None:
        """Create the source row up front: crawlers starting together must not race to insert it."""
        for _ in range(3):
            try:
                with self.factory() as session, session.begin():
                    if session.scalar(select(Source.id).where(Source.name == self.source)) is None:
                        session.add(Source(name=self.source, kind="web", home_url=self.home_url))
                return
            except IntegrityError:
                continue

    def lookup(self, url: str) -> FetchHint:
        url = canonical_url(url)
        with self.factory() as session:
            archived = session.scalar(select(Article.id).where(Article.url == url)) is not None
            state = session.get(FetchState, url)
        if state is None:
            return FetchHint(archived)
        return FetchHint(archived, state.etag, state.last_modified)

    def add(self, item: Document | Rejection, record: FetchRecord | None = None) -> None:
        self._pending.append((item, record))
        if len(self._pending) >= self.batch_size:
            self.flush()

    def remember_hub(self, record: FetchRecord) -> None:
        if record.etag or record.last_modified:
            self._hubs[canonical_url(record.url)] = record

    def flush(self) -> None:
        """Ingest the pending pages as one batch, then store what their servers said of them."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        # With the boilerplate learned per source so far, exactly as a file ingest prepares its batches.
        batch = prepare_batch([item for item, _ in pending], self.ingestor.settings,
                              self.ingestor.boilerplate.snapshot())
        outcomes = self.ingestor.store(batch, self.summary)
        self._save_state([(record, outcome.article_id if outcome else None)
                          for (_, record), outcome in zip(pending, outcomes) if record and record.status])

    def finish(self, status: str, error: str | None = None, save_hubs: bool = False) -> Summary:
        """Ingest what is pending, store the hubs' validators when `save_hubs`, close the run."""
        try:
            self.flush()
            if save_hubs and status == "ok":
                self._save_state([(record, None) for record in self._hubs.values()])
        except Exception as exc:
            log.exception("crawl run %s: could not store the last pages", self.summary.run_id)
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        return self.ingestor.finish_run(self.summary, status, error)

    def _save_state(self, records: list[tuple[FetchRecord, int | None]]) -> None:
        if not records:
            return
        for attempt in range(3):  # another crawler may insert the same URL's row at the same moment
            try:
                with self.factory() as session, session.begin():
                    for r, article_id in records:
                        url = canonical_url(r.url)
                        state = session.get(FetchState, url) or FetchState(url=url)
                        state.etag, state.last_modified, state.status = r.etag, r.last_modified, r.status
                        state.article_id = article_id or state.article_id
                        state.checked_at = utcnow()
                        session.add(state)
                return
            except IntegrityError:
                if attempt == 2:
                    raise
