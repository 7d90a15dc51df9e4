"""A crawl source's Scrapy settings, applied by the spider on top of the project's settings."""

from __future__ import annotations

from typing import Any

from archive.config import Settings
from archive.crawl import CrawlSource
from archive.errors import ConfigError

REDIS_SETTINGS = {
    "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
    "DUPEFILTER_CLASS": "spiders.fingerprint.RedisCanonicalDupeFilter",
    # The frontier outlives any one worker; spiders.frontier clears it when a new round starts.
    "SCHEDULER_PERSIST": True,
    "SCHEDULER_FLUSH_ON_START": False,
}


def redis_prefix(source: CrawlSource) -> str:
    prefix = str(source.scrapy.get("ARCHIVE_REDIS_PREFIX") or f"archive:crawl:{source.name}")
    if "%" in prefix:
        raise ConfigError(f"source {source.name}: ARCHIVE_REDIS_PREFIX must not contain '%'")
    return prefix


def source_settings(source: CrawlSource, settings: Settings) -> dict[str, Any]:
    """Scrapy settings for one source: its own knobs, the shared Redis frontier, its `scrapy` table."""
    out: dict[str, Any] = {"DEPTH_LIMIT": source.depth if source.kind == "site" else 0}
    if source.download_delay is not None:
        out["DOWNLOAD_DELAY"] = source.download_delay
        out["AUTOTHROTTLE_START_DELAY"] = source.download_delay
    if source.concurrency is not None:
        out["CONCURRENT_REQUESTS_PER_DOMAIN"] = source.concurrency
    if settings.redis_url:
        prefix = redis_prefix(source)
        out.update(REDIS_SETTINGS)
        out.update({
            "REDIS_URL": settings.redis_url,
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
            "ARCHIVE_REDIS_PREFIX": prefix,
            "ARCHIVE_REDIS_FRONTIER": True,
        })
    out.update(source.scrapy)
    return out
