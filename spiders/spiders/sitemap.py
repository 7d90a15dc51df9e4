"""`sitemap`: XML sitemaps, sitemap indexes, news sitemaps (gzipped or not), or robots.txt's Sitemap lines."""

from __future__ import annotations

from scrapy.http import Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from spiders.spiders.base import SourceSpider


class SitemapSpider(SourceSpider):
    name = "sitemap"

    def start_callback(self, response: Response):
        if response.status == 304:
            return
        if response.url.endswith("/robots.txt"):
            for url in sitemap_urls_from_robots(response.text, base_url=response.url):
                yield self.hub_request(url, self.start_callback)
            return
        body = response.body
        if gzip_magic_number(response):
            body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            sitemap = Sitemap(body)
        except Exception as exc:  # lxml raises several types for a body that is no XML at all
            self.logger.warning("not a sitemap: %s (%s)", response.url, exc)
            return
        self.remember_hub(response)
        locations = [entry["loc"] for entry in sitemap if entry.get("loc")]
        if sitemap.type == "sitemapindex":
            for url in locations:
                yield self.hub_request(url, self.start_callback)
        elif sitemap.type == "urlset":
            yield from self.article_requests(locations)
        else:
            self.logger.warning("not a sitemap: %s (root element %s)", response.url, sitemap.type)
