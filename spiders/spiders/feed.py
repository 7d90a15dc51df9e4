"""`feed`: RSS 2.0, RSS 1.0 (RDF) and Atom feeds; every entry's link is an article."""

from __future__ import annotations

from scrapy.http import Response, TextResponse

from spiders.spiders.base import SourceSpider

ENTRY_LINKS = (
    "//item/link/text()",
    "//item/guid[@isPermaLink='true' or not(@isPermaLink)][starts-with(normalize-space(.), 'http')]/text()",
    "//entry/link[not(@rel) or @rel='alternate']/@href",
)


class FeedSpider(SourceSpider):
    name = "feed"

    def start_callback(self, response: Response):
        if response.status == 304 or not isinstance(response, TextResponse):
            return
        self.remember_hub(response)
        selector = response.selector
        selector.remove_namespaces()
        links = dict.fromkeys(response.urljoin(u.strip()) for xpath in ENTRY_LINKS for u in selector.xpath(xpath).getall())
        if not links:
            self.logger.warning("no feed entries found at %s", response.url)
        yield from self.article_requests(links)
