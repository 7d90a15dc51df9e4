"""Scrapy settings of the archive's crawlers: polite by default.

A source's own settings (`download_delay`, `concurrency`, its `scrapy` table) are applied on top
of these by the spider itself (`spiders.config`), so `scrapy crawl` and `archive crawl` behave alike.
"""

BOT_NAME = "news-archive"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"

USER_AGENT = "news-archive/0.1 (a deduplicating news archive crawler; obeys robots.txt)"
ROBOTSTXT_OBEY = True

# One site is asked at most twice at a time, a second apart at first; AutoThrottle then adapts the
# delay to the server's latency and never goes below DOWNLOAD_DELAY.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # pages above this are cancelled and recorded as too large
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
URLLENGTH_LIMIT = 2000  # the archive's URL columns hold 2000 characters

# Retries for 5xx, 429 and timeouts, spaced by an exponential backoff (spiders.middlewares).
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry; doubled for each further one
RETRY_BACKOFF_MAX = 60.0

REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False  # no listening ports
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

# Only http and https.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None, "data": None}

# URLs are compared in their canonical form (tracking parameters, fragments, default ports and
# trailing slashes do not make a page new).
REQUEST_FINGERPRINTER_CLASS = "spiders.fingerprint.CanonicalFingerprinter"

DOWNLOADER_MIDDLEWARES = {
    "spiders.middlewares.RetryBackoffMiddleware": 560,
    # After the redirect middleware (600) on requests, before it on responses: sees every response.
    "spiders.middlewares.FetchStateMiddleware": 650,
}
ITEM_PIPELINES = {"spiders.pipelines.ArchivePipeline": 300}
EXTENSIONS = {
    "spiders.progress.ProgressLines": 500,
    "spiders.frontier.RedisFrontier": 510,
}

ARCHIVE_ITEM_BATCH = 20  # pages handed to the archive's ingest at once
ARCHIVE_PROGRESS = False  # JSON progress lines on stdout (set by `archive crawl`)
ARCHIVE_REDIS_IDLE_SECONDS = 10.0  # with a shared Redis frontier: idle time before a worker stops
ARCHIVE_REDIS_STALE_SECONDS = 30.0  # a worker silent this long is considered gone
