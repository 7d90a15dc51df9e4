"""The item pipeline: hands pages to the archive's ingest (in batches) and records the crawl's run."""

from __future__ import annotations

import hashlib
import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from archive.crawl import CrawlSummary
from archive.pipeline.crawl import CrawlSession, FetchRecord
from archive.pipeline.extract import Document
from archive.pipeline.loaders import Rejection
from spiders.items import ArticleItem

log = logging.getLogger(__name__)

OK_REASONS = ("finished", "closespider_timeout", "closespider_itemcount", "closespider_pagecount",
              "closespider_errorcount")
INTERRUPTED_REASONS = ("shutdown", "cancelled")


class ArchivePipeline:
    """Every item becomes a Document (or a Rejection) for the archive's Ingestor."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.session: CrawlSession | None = None
        self.failure: str | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ArchivePipeline":
        return cls(crawler)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.session = getattr(spider, "session", None)
        if self.session is not None:
            summary = self.session.start({"source": spider.source.as_dict(), "spider": spider.name})
            log.info("crawl of %s: ingest run %s", spider.source.name, summary.run_id)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        if self.session is None or self.failure:
            return item
        record = FetchRecord(item["location"], item.get("status"), item["headers"].get("etag"),
                             item["headers"].get("last-modified"))
        try:
            self.session.add(to_input(item), record)
        except Exception as exc:  # the archive itself failed (database down...): stop the crawl
            log.exception("the archive could not take %s", item["location"])
            self.failure = f"{type(exc).__name__}: {exc}"
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))
        self._count()
        return item

    def _count(self) -> None:
        summary = self.session.summary
        for field in ("new", "copies", "duplicates", "rejected"):
            self.crawler.stats.set_value(f"archive/{field}", getattr(summary, field))

    def spider_closed(self, spider, reason: str) -> None:
        if self.session is None:
            return
        if self.failure:
            status = "failed"
        elif reason in OK_REASONS:
            status = "ok"
        elif reason in INTERRUPTED_REASONS:
            status = "interrupted"
        else:
            status = "failed"
        error = self.failure or (None if status == "ok" else f"the crawl stopped: {reason}")
        try:
            summary = self.session.finish(status, error, save_hubs=reason == "finished")
        finally:
            spider.archive.close()
        self._count()
        crawl = crawl_summary(spider.source.name, summary, self.crawler.stats.get_stats(), reason)
        self.crawler.stats.set_value("archive/summary", crawl.as_dict())
        log.info("crawl of %s %s: %d pages, %d new, %d copies, %d duplicates, %d rejected, %d errors",
                 crawl.source, crawl.status, crawl.pages_fetched, crawl.new, crawl.copies, crawl.duplicates,
                 crawl.rejected, crawl.errors)


def to_input(item: ArticleItem) -> Document | Rejection:
    body = item.get("body") or b""
    if item.get("rejection"):
        reason, detail = item["rejection"]
        return Rejection(item["location"], reason, detail, hashlib.sha256(body).hexdigest() if body else None)
    headers = item.get("headers") or {}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip() or None
    return Document(content=body, location=item["location"], kind="html", url=item["url"],
                    media_type=media_type, encoding_hint=item.get("encoding_hint"),
                    status_code=item.get("status"), headers=headers, source=item["source"])


def crawl_summary(source: str, ingest, stats: dict, reason: str) -> CrawlSummary:
    return CrawlSummary(
        source=source, status=ingest.status, run_id=ingest.run_id,
        pages_fetched=stats.get("archive/pages_fetched", 0), not_modified=stats.get("archive/not_modified", 0),
        new=ingest.new, copies=ingest.copies, duplicates=ingest.duplicates, rejected=ingest.rejected,
        errors=stats.get("archive/errors", 0), skipped=stats.get("archive/skipped", 0),
        disallowed=stats.get("robotstxt/forbidden", 0), finish_reason=reason, error=ingest.error,
        error_samples=list(stats.get("archive/error_samples", [])),
        rejections=[{"location": r.location, "reason": r.reason, "detail": r.detail} for r in ingest.rejections[:50]],
    )
