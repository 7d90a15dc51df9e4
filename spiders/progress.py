"""Progress lines for `archive crawl`: JSON objects on stdout, at most a few per second."""

from __future__ import annotations

import json
import sys
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

FIELDS = ("pages_fetched", "not_modified", "new", "copies", "duplicates", "rejected", "errors", "skipped")


class ProgressLines:
    def __init__(self, crawler: Crawler, interval: float = 0.5):
        self.crawler = crawler
        self.interval = interval
        self._last = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ProgressLines":
        if not crawler.settings.getbool("ARCHIVE_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.tick, signal=signals.response_received)
        crawler.signals.connect(ext.tick, signal=signals.item_scraped)
        return ext

    def tick(self, *args, **kwargs) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        stats = self.crawler.stats
        line = {f: stats.get_value(f"archive/{f}", 0) for f in FIELDS}
        sys.stdout.write(json.dumps({"progress": line}) + "\n")
        sys.stdout.flush()
