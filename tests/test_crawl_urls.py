"""URL canonicalisation and crawl source declarations (no network)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.config import Settings
from archive.crawl import find_source, parse_source, parse_sources
from archive.errors import ConfigError, NotFound
from archive.urls import canonical_url


@pytest.mark.parametrize("url, canonical", [
    ("HTTP://News.Example.COM:80/a/b/?utm_source=x&b=2&a=1#frag", "http://news.example.com/a/b?a=1&b=2"),
    ("https://example.com:443/%7Efoo/", "https://example.com/~foo"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/?", "https://example.com/"),
    ("https://example.com:8443/x/", "https://example.com:8443/x"),
    ("http://example.com/a?fbclid=1&gclid=2&spm=a.b&id=7", "http://example.com/a?id=7"),
    ("http://example.com/s?id=%D6%D0&q=中文", "http://example.com/s?id=%D6%D0&q=%E4%B8%AD%E6%96%87"),
    ("http://[::1]:8080/a/", "http://[::1]:8080/a"),
    ("file:///tmp/x.html", "file:///tmp/x.html"),
    ("urn:record:jsonl:7", "urn:record:jsonl:7"),
])
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_spellings_of_one_page_meet():
    spellings = ["http://example.com/news/1.html", "http://EXAMPLE.com:80/news/1.html#comments",
                 "http://example.com/news/1.html?utm_source=rss&utm_medium=feed", "http://example.com/news/1.html/"]
    assert len({canonical_url(u) for u in spellings}) == 1
    assert canonical_url("http://example.com/news/1.html?page=2") != canonical_url(spellings[0])


paths = st.lists(st.text(alphabet="abcXYZ019-._~%/", max_size=8), max_size=4).map("/".join)
queries = st.lists(st.tuples(st.sampled_from(["a", "b", "utm_x", "spm", "id"]), st.text("xyz09%", max_size=4)),
                   max_size=4).map(lambda kv: "&".join(f"{k}={v}" for k, v in kv))


@given(st.sampled_from(["http", "HTTPS"]), st.sampled_from(["ex.com", "Ex.Com", "ex.com:80", "ex.com:8080"]),
       paths, queries, st.text("abc", max_size=3))
def test_canonical_url_is_idempotent(scheme, host, path, query, fragment):
    url = f"{scheme}://{host}/{path}?{query}#{fragment}"
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert "#" not in once and "utm_" not in once


def test_sources_are_checked_and_named_in_errors():
    source = parse_source({"name": "n", "kind": "site", "urls": ["https://a.example/"], "domains": ["cdn.example"],
                           "allow": [r"/\d{4}/"], "depth": 1, "encoding": "gbk"})
    assert source.allowed_domains == ["a.example", "cdn.example"]
    assert parse_source({"name": "n", "kind": "feed", "urls": "https://a.example/rss", "follow_offsite": True}
                        ).allowed_domains == []
    bad = [
        ({"kind": "site", "urls": ["https://a/"]}, "name is required"),
        ({"name": "n", "kind": "spider", "urls": ["https://a/"]}, "kind must be one of feed, sitemap, site"),
        ({"name": "n", "kind": "site", "urls": ["ftp://a/x"]}, "not an http or https URL"),
        ({"name": "n", "kind": "site", "urls": []}, "at least one URL"),
        ({"name": "n", "kind": "site", "urls": ["https://a/"], "allow": ["("]}, "not a regular expression"),
        ({"name": "n", "kind": "site", "urls": ["https://a/"], "depth": -1}, "depth must be a number"),
        ({"name": "n", "kind": "site", "urls": ["https://a/"], "encoding": "klingon"}, "not a known text encoding"),
        ({"name": "n", "kind": "site", "urls": ["https://a/"], "delay": 1}, "unknown keys delay"),
        ({"name": "a b", "kind": "site", "urls": ["https://a/"]}, "name must be"),
    ]
    for table, message in bad:
        with pytest.raises(ConfigError, match=message):
            parse_source(table, 3)
    with pytest.raises(ConfigError, match="declared twice"):
        parse_sources([{"name": "n", "kind": "feed", "urls": ["https://a/"]}] * 2)


def test_unknown_source_names_the_declared_ones(tmp_path):
    settings = Settings(database_url="sqlite://", data_dir=tmp_path, config_path=tmp_path / "archive.toml",
                        sources=({"name": "one", "kind": "feed", "urls": ["https://a/rss"]},))
    assert find_source(settings, "one").kind == "feed"
    with pytest.raises(NotFound, match=r"unknown crawl source 'two': .*archive.toml declares one"):
        find_source(settings, "two")
