"""Several crawler processes on one Redis frontier (scrapy-redis scheduler and duplicate filter).

Workers of one source register in a Redis hash with a heartbeat. The first worker of a round (no
other live worker) clears what a finished round left (queue and seen-set), so a later crawl starts
afresh; the last worker to leave clears them too. A worker whose queue runs dry waits
ARCHIVE_REDIS_IDLE_SECONDS for requests other workers may still push before it stops. Both
scripts run atomically in Redis, so workers starting or stopping together cannot race.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
import warnings

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

log = logging.getLogger(__name__)

# scrapy-redis 0.9.1 passes `spider=` to the stats collector on every request (deprecated in Scrapy 2.14).
warnings.filterwarnings("ignore", message=r".*'spider' argument.*", category=DeprecationWarning)

_LIVE = """
local now = tonumber(redis.call('TIME')[1])
local live = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] and tonumber(all[i + 1]) > now - tonumber(ARGV[2]) then live = live + 1 end
end
"""
JOIN = _LIVE + """
if live == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
redis.call('HSET', KEYS[1], ARGV[1], now)
return live
"""
LEAVE = _LIVE + """
redis.call('HDEL', KEYS[1], ARGV[1])
if live == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return live
"""
BEAT = "redis.call('HSET', KEYS[1], ARGV[1], redis.call('TIME')[1])"


class RedisFrontier:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        self.crawler = crawler
        prefix = settings.get("ARCHIVE_REDIS_PREFIX")
        self.keys = [f"{prefix}:workers", settings.get("SCHEDULER_QUEUE_KEY"), settings.get("SCHEDULER_DUPEFILTER_KEY")]
        self.idle_seconds = settings.getfloat("ARCHIVE_REDIS_IDLE_SECONDS", 10.0)
        self.stale_seconds = settings.getfloat("ARCHIVE_REDIS_STALE_SECONDS", 30.0)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.last_activity = time.monotonic()
        self.server = None
        self.heartbeat: task.LoopingCall | None = None
        self.idle_check = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RedisFrontier":
        if not crawler.settings.getbool("ARCHIVE_REDIS_FRONTIER"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.active, signal=signals.response_received)
        crawler.signals.connect(ext.active, signal=signals.request_scheduled)
        return ext

    def _script(self, source: str) -> int:
        return int(self.server.eval(source, 3, *self.keys, self.worker, self.stale_seconds))

    def spider_opened(self, spider) -> None:
        from scrapy_redis.connection import get_redis_from_settings

        self.server = get_redis_from_settings(self.crawler.settings)
        others = self._script(JOIN)
        log.info("redis frontier %s: worker %s joins %d live worker(s)", self.keys[0], self.worker, others)
        self.heartbeat = task.LoopingCall(self.beat)
        self.heartbeat.start(max(1.0, self.stale_seconds / 5), now=False)

    def beat(self) -> None:
        try:
            self.server.eval(BEAT, 1, self.keys[0], self.worker)
        except Exception:  # a missed heartbeat is retried at the next one
            log.warning("redis frontier: heartbeat failed", exc_info=True)

    def active(self, *args, **kwargs) -> None:
        self.last_activity = time.monotonic()

    def spider_idle(self, spider) -> None:
        remaining = self.idle_seconds - (time.monotonic() - self.last_activity)
        if remaining > 0:
            # Scrapy looks again only every 5 seconds: check back as soon as the wait is over.
            if self.idle_check is None or not self.idle_check.active():
                from twisted.internet import reactor  # the one Scrapy installed

                self.idle_check = reactor.callLater(remaining + 0.1, self.close_if_idle)
            raise DontCloseSpider

    def close_if_idle(self) -> None:
        engine = self.crawler.engine
        if time.monotonic() - self.last_activity >= self.idle_seconds and engine.spider_is_idle():
            deferred_from_coro(engine.close_spider_async(reason="finished"))

    def spider_closed(self, spider, reason: str) -> None:
        if self.idle_check is not None and self.idle_check.active():
            self.idle_check.cancel()
        if self.heartbeat is not None and self.heartbeat.running:
            self.heartbeat.stop()
        if self.server is not None:
            others = self._script(LEAVE)
            log.info("redis frontier %s: worker %s leaves %d live worker(s)", self.keys[0], self.worker, others)
