"""What every source spider shares: the source from the configuration file, its archive session,
article items, and error accounting."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding

from archive.api import Archive
from archive.config import load_settings
from archive.crawl import CrawlSource, find_source
from archive.errors import ConfigError
from archive.pipeline.crawl import FetchRecord
from archive.pipeline.extract import looks_like_html
from archive.urls import canonical_url, is_web_url
from spiders.config import source_settings
from spiders.items import ArticleItem
from spiders.middlewares import ARTICLE, HUB

log = logging.getLogger(__name__)

MAX_ERROR_SAMPLES = 50
HTML_TYPES = ("text/html", "application/xhtml+xml")

try:
    from scrapy.exceptions import DownloadCancelledError
except ImportError:  # Scrapy before 2.13 cancelled with Twisted's CancelledError
    from twisted.internet.defer import CancelledError as DownloadCancelledError


class SourceSpider(Spider):
    """A spider for one declared source: `scrapy crawl KIND -a source=NAME`."""

    source: CrawlSource
    archive: Archive

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, source: str | None = None, **kwargs: Any):
        if not source:
            raise ConfigError(f"the {cls.name} spider needs a source: scrapy crawl {cls.name} -a source=NAME")
        settings = load_settings()
        declared = find_source(settings, source)
        if declared.kind != cls.name:
            raise ConfigError(f"source {source!r} is a {declared.kind} source: crawl it with the {declared.kind} spider")
        # Settings are frozen only after the spider is built, so the source's own apply here.
        crawler.settings.setdict(source_settings(declared, settings), priority="spider")
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.source = declared
        spider.allowed_domains = declared.allowed_domains
        spider.archive = Archive(settings)
        spider.session = spider.archive.crawl_session(declared, crawler.settings.getint("ARCHIVE_ITEM_BATCH", 20))
        spider._patterns = {key: [re.compile(p) for p in getattr(declared, key)] for key in ("allow", "deny", "articles")}
        return spider

    # -- requests -----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        # Not exempt from the duplicate filter: with a shared Redis frontier, only one of several
        # workers fetches the start pages.
        for url in self.source.urls:
            yield self.hub_request(url, self.start_callback)

    def hub_request(self, url: str, callback) -> Request:
        return Request(url, callback=callback, errback=self.on_error, meta={"archive_role": HUB})

    def article_request(self, url: str) -> Request:
        return Request(url, callback=self.parse_article, errback=self.on_error, meta={"archive_role": ARTICLE})

    def redirected_role(self, request: Request) -> str:
        """The role of a request that was redirected (its URL is now the target's)."""
        return request.meta["archive_role"]

    def followable(self, url: str) -> bool:
        """An http(s) URL allowed by the source's allow and deny patterns."""
        if not is_web_url(url) or any(p.search(url) for p in self._patterns["deny"]):
            return False
        return not self._patterns["allow"] or any(p.search(url) for p in self._patterns["allow"])

    def is_article_url(self, url: str) -> bool:
        return not self._patterns["articles"] or any(p.search(url) for p in self._patterns["articles"])

    def article_requests(self, urls: Iterable[str]) -> Iterable[Request]:
        for url in urls:
            url = url.strip()
            if url and self.followable(url) and self.is_article_url(url):
                yield self.article_request(url)

    # -- responses ----------------------------------------------------------------------------

    def start_callback(self, response: Response):
        raise NotImplementedError

    def remember_hub(self, response: Response) -> None:
        """Keep a hub's validators; the session stores them if the crawl ends well."""
        self.session.remember_hub(FetchRecord(response.url, response.status, *_validators(response)))

    def parse_article(self, response: Response):
        if response.status == 304:
            return
        yield self.article_item(response)
        yield from self.follow_links(response)

    def follow_links(self, response: Response) -> Iterable[Request]:
        return ()

    def article_item(self, response: Response) -> ArticleItem:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").strip()
        etag, last_modified = _validators(response)
        item = ArticleItem(
            url=canonical_url(response.url), location=response.url, source=self.source.name,
            status=response.status, body=response.body,
            headers={k: v for k, v in (("content-type", content_type), ("last-modified", last_modified),
                                       ("etag", etag)) if v},
            encoding_hint=self.source.encoding or http_content_type_encoding(content_type) or None,
        )
        if not is_html(content_type, response.body):
            item["rejection"] = ("not-html", f"content type {content_type or 'missing'}: only HTML pages are archived")
        return item

    def on_error(self, failure: Failure):
        request = failure.request
        exc = failure.value
        if isinstance(exc, IgnoreRequest) and not isinstance(exc, HttpError):
            return  # robots.txt, offsite, already archived: counted where it was decided
        if isinstance(exc, DownloadCancelledError):
            yield ArticleItem(url=canonical_url(request.url), location=request.url, source=self.source.name,
                              status=None, body=b"", headers={}, encoding_hint=None,
                              rejection=("too-large", str(exc) or "larger than DOWNLOAD_MAXSIZE"))
            return
        reason = f"HTTP {exc.response.status}" if isinstance(exc, HttpError) else f"{type(exc).__name__}: {exc}"
        self.crawler.stats.inc_value("archive/errors")
        samples = self.crawler.stats.get_value("archive/error_samples") or []
        if len(samples) < MAX_ERROR_SAMPLES:
            samples.append({"url": request.url, "reason": reason[:300]})
            self.crawler.stats.set_value("archive/error_samples", samples)
        log.warning("failed %s: %s", request.url, reason)


def is_html(content_type: str, body: bytes) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if media:
        return media in HTML_TYPES
    return looks_like_html(body)


def _validators(response: Response) -> tuple[str | None, str | None]:
    def header(name: bytes) -> str | None:
        value = response.headers.get(name)
        return value.decode("latin-1").strip() if value else None

    return header(b"ETag"), header(b"Last-Modified")
