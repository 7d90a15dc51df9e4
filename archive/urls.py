"""URL canonicalisation: one spelling per page, so URLs are compared (and archived) once.

`canonical_url` lowercases the scheme and host, drops default ports, fragments, tracking
parameters (utm_*, fbclid, gclid, spm...) and a trailing slash (except the root path), sorts the
remaining query parameters and normalises percent-encoding (w3lib, as Scrapy does). The result is
for comparing and storing; the crawler still fetches the URL it was given.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

WEB_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci")
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "igshid", "mc_cid",
    "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "vero_id", "wt_mc", "wt.mc_id", "ncid",
    "spm", "scm", "share_token", "isappinstalled", "wxshare_count", "ref_src", "ref_url",
})


def is_tracking_param(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def is_web_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in WEB_SCHEMES


def canonical_url(url: str) -> str:
    """The canonical form of an http(s) URL; any other URL is returned as given (stripped)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in WEB_SCHEMES or not parts.hostname:
        return url
    try:
        port = parts.port
        # w3lib first (as Scrapy): percent-encoding, dot segments, sorted query, no fragment.
        parts = urlsplit(canonicalize_url(url, keep_fragments=False))
    except ValueError:  # a port that is not a number, a bad IPv6 literal: keep the URL as written
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{userinfo}@{netloc}"
    # Filtered piece by piece, undecoded, so that any percent-encoding survives untouched.
    query = "&".join(p for p in parts.query.split("&")
                     if p and not is_tracking_param(unquote(p.split("=", 1)[0])))
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, query, ""))
