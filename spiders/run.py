"""A crawl of one source in this process: `python -m spiders.run SOURCE --summary FILE`.

This is what `archive crawl` starts as a child process (a Twisted reactor runs once per process).
It writes the crawl summary as JSON to FILE and exits 0 when the crawl ended well, 1 when it
failed or was interrupted, 2 when the source or the configuration is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archive import logmask
from archive.config import load_settings
from archive.crawl import CrawlSummary, find_source
from archive.errors import ArchiveError

SPIDERS = {
    "feed": "spiders.spiders.feed.FeedSpider",
    "sitemap": "spiders.spiders.sitemap.SitemapSpider",
    "site": "spiders.spiders.site.SiteSpider",
}


def project_settings(log_level: str, progress: bool):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.set("LOG_LEVEL", log_level, priority="cmdline")
    settings.set("ARCHIVE_PROGRESS", progress, priority="cmdline")
    return settings


def crawl(name: str, log_level: str = "WARNING", progress: bool = False) -> CrawlSummary:
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.misc import load_object

    source = find_source(load_settings(), name)
    process = CrawlerProcess(project_settings(log_level, progress))
    logmask.install()  # Scrapy's root handler exists now: a Redis URL's password is never logged
    crawler = process.create_crawler(load_object(SPIDERS[source.kind]))
    process.crawl(crawler, source=name)
    process.start()
    data = crawler.stats.get_value("archive/summary") if crawler._stats is not None else None
    if not data:
        return CrawlSummary(source=name, status="failed", error="the crawl did not start (see the log above)")
    return CrawlSummary.from_dict(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spiders.run", description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("--summary", type=Path, help="write the summary here as JSON (default: stdout)")
    parser.add_argument("--progress", action="store_true", help="JSON progress lines on stdout")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    try:
        summary = crawl(args.source, args.log_level, args.progress)
        code = 0 if summary.ok else 1
    except ArchiveError as exc:
        summary = CrawlSummary(source=args.source, status="failed", error=str(exc))
        print(f"error: {exc}", file=sys.stderr)
        code = 2
    text = json.dumps(summary.as_dict(), ensure_ascii=False, default=str)
    if args.summary:
        args.summary.write_text(text)
    else:
        print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
