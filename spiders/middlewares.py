"""Downloader middlewares: conditional requests and archived-URL skipping, and retry backoff."""

from __future__ import annotations

import asyncio
import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

log = logging.getLogger(__name__)

ARTICLE = "article"  # request.meta["archive_role"]: a page to archive
HUB = "hub"  # a feed, sitemap or index page: read for links


class FetchStateMiddleware:
    """Before a request: an article URL already archived is not requested again, and a URL seen
    before is asked for conditionally (If-None-Match / If-Modified-Since), so an unchanged page
    costs a 304. After: counts pages fetched and 304s (robots.txt not counted)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "FetchStateMiddleware":
        return cls(crawler)

    def _session(self):
        return getattr(self.crawler.spider, "session", None)

    def process_request(self, request: Request) -> None:
        session = self._session()
        if session is None or "archive_role" not in request.meta:
            return None
        if request.meta.get("redirect_urls"):
            request.meta["archive_role"] = self.crawler.spider.redirected_role(request)
        role = request.meta["archive_role"]
        hint = session.lookup(request.url)
        if hint.archived and role == ARTICLE:
            self.stats.inc_value("archive/skipped")
            raise IgnoreRequest(f"already archived: {request.url}")
        if hint.etag or hint.last_modified:
            if hint.etag:
                request.headers.setdefault(b"If-None-Match", hint.etag.encode("latin-1"))
            if hint.last_modified:
                request.headers.setdefault(b"If-Modified-Since", hint.last_modified.encode("latin-1"))
            request.meta["handle_httpstatus_list"] = [*request.meta.get("handle_httpstatus_list", ()), 304]
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("dont_obey_robotstxt") and response.url.endswith("/robots.txt"):
            return response
        if response.status == 304:
            self.stats.inc_value("archive/not_modified")
        else:
            self.stats.inc_value("archive/pages_fetched")
        return response


class RetryBackoffMiddleware:
    """Waits before a retried request goes out: RETRY_BACKOFF_BASE seconds, doubled for every
    further retry, at most RETRY_BACKOFF_MAX (Scrapy's RetryMiddleware retries at once)."""

    def __init__(self, base: float, maximum: float):
        self.base = base
        self.maximum = maximum

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RetryBackoffMiddleware":
        return cls(crawler.settings.getfloat("RETRY_BACKOFF_BASE", 2.0),
                   crawler.settings.getfloat("RETRY_BACKOFF_MAX", 60.0))

    async def process_request(self, request: Request) -> None:
        retries = request.meta.get("retry_times", 0)
        if retries and self.base > 0:
            delay = min(self.maximum, self.base * 2 ** (retries - 1))
            log.debug("retry %d of %s in %.1fs", retries, request.url, delay)
            await asyncio.sleep(delay)
        return None
