"""A deduplicating news archive.

Articles come in from files, JSONL dumps, WARC files or Scrapy crawls; each is decoded, cleaned of
boilerplate, fingerprinted with MinHash and placed in two levels of clusters: copies (reprints of one
text) and events (different write-ups of one news event). Everything is stored through SQLAlchemy.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
