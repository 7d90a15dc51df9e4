"""The Scrapy project of the archive: spiders hand their items to the archive's ingest API."""
