"""`site`: start pages, then links allowed by the source's patterns, up to its depth limit.

Pages matching the source's `articles` patterns (every page but the start pages when it has none)
are archived; the others are only read for links. A redirect's target is judged by its own URL.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor

from spiders.middlewares import ARTICLE, HUB
from spiders.spiders.base import SourceSpider


class SiteSpider(SourceSpider):
    name = "site"

    def start_callback(self, response: Response):
        if response.status == 304:
            return
        if response.meta.get("archive_role") == ARTICLE:
            yield from self.parse_article(response)
            return
        self.remember_hub(response)
        yield from self.follow_links(response)

    def article_request(self, url: str) -> Request:
        return Request(url, callback=self.start_callback, errback=self.on_error, meta={"archive_role": ARTICLE})

    def redirected_role(self, request: Request) -> str:
        return ARTICLE if self.is_article_url(request.url) else HUB

    def follow_links(self, response: Response):
        if not isinstance(response, TextResponse):
            return
        for link in LinkExtractor(unique=True).extract_links(response):
            url = link.url
            if not self.followable(url):
                continue
            if self.is_article_url(url):
                yield self.article_request(url)
            else:
                yield self.hub_request(url, self.start_callback)
