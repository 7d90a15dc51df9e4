"""The one item the spiders yield: a fetched page (or why it could not be kept) for the archive."""

from __future__ import annotations

import scrapy


class ArticleItem(scrapy.Item):
    url = scrapy.Field()  # canonical URL: the article's identity in the archive
    location = scrapy.Field()  # the URL actually fetched (after redirects)
    source = scrapy.Field()  # the crawl source's name
    status = scrapy.Field()
    body = scrapy.Field()  # the raw response body, kept as the raw document
    headers = scrapy.Field()  # content-type, last-modified, etag
    encoding_hint = scrapy.Field()
    rejection = scrapy.Field()  # (reason, detail) when the page cannot become an article

    def __repr__(self) -> str:  # never log whole bodies
        body = self.get("body") or b""
        return f"<ArticleItem {self.get('location')} status={self.get('status')} {len(body)} bytes>"
