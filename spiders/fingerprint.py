"""Request fingerprints on canonical URLs, for Scrapy's duplicate filter and scrapy-redis's."""

from __future__ import annotations

import hashlib

from scrapy import Request
from scrapy_redis.dupefilter import RFPDupeFilter

from archive.urls import canonical_url


def request_fingerprint(request: Request) -> bytes:
    data = b"\0".join([request.method.encode(), canonical_url(request.url).encode(), request.body or b""])
    return hashlib.sha1(data).digest()


class CanonicalFingerprinter:
    """REQUEST_FINGERPRINTER_CLASS: one fingerprint for every spelling of a URL."""

    def fingerprint(self, request: Request) -> bytes:
        return request_fingerprint(request)


class RedisCanonicalDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared duplicate filter, on the same canonical fingerprints."""

    def request_fingerprint(self, request: Request) -> str:
        return request_fingerprint(request).hex()
