"""The three generic spiders: `feed` (RSS/Atom), `sitemap` (XML and news sitemaps), `site` (links)."""
