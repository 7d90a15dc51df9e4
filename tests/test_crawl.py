"""Real Scrapy crawls (child processes, as `archive crawl` runs them) of the fixture news sites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive.api import Archive
from archive.cli import cli
from archive.cli.context import open_archive
from archive.config import load_settings
from archive.db.models import Article, FetchState, IngestRun, RawDocument, RejectedInput
from tests.crawl_site import CHROME, FixtureServer, news_site, reprint_site, write_config


@pytest.fixture
def sites():
    with FixtureServer() as news, FixtureServer("localhost") as reprints:
        stories = news_site(news)
        copies = reprint_site(reprints, news, stories)
        yield news, reprints, stories, copies


@pytest.fixture
def crawl_archive(env, tmp_path, monkeypatch, sites):
    news, reprints, _, _ = sites
    config = write_config(tmp_path / "archive.toml", [
        {"name": "fixture-news", "kind": "site", "urls": [news.url("/")], "articles": [r"/news/\d{4}/"]},
        {"name": "fixture-reprints", "kind": "site", "urls": [reprints.url("/")], "articles": ["/reprint/"]},
    ])
    monkeypatch.setenv("ARCHIVE_CONFIG", str(config))
    monkeypatch.delenv("ARCHIVE_REDIS_URL", raising=False)
    open_archive.cache_clear()
    archive = Archive(load_settings())
    yield archive
    archive.close()
    open_archive.cache_clear()


def crawl(name: str) -> dict:
    result = CliRunner().invoke(cli, ["crawl", name, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_site_crawl_reprints_and_recrawl(crawl_archive, sites):
    news, reprints, stories, copies = sites
    articles = [stories[k] for k in ("hezuo", "renwen", "shengwu", "liu")]

    first = crawl("fixture-news")
    assert (first["status"], first["new"], first["copies"], first["duplicates"]) == ("ok", 4, 0, 0)
    assert first["rejected"] == 2 and first["errors"] == 1 and first["disallowed"] == 1
    assert [e["reason"] for e in first["error_samples"]] == ["HTTP 404"]

    with crawl_archive.session() as session:
        stored = dict(session.execute(select(Article.url, Article.id)).all())
        assert sorted(stored) == sorted(news.url(s.path) for s in articles)  # canonical URLs, each once
        run = session.get(IngestRun, first["run_id"])
        assert (run.kind, run.job_name, run.status, run.new) == ("crawl", "fixture-news", "ok", 4)
        rejected = {r.reason: r.location for r in session.scalars(select(RejectedInput))}
        assert rejected == {"too-large": news.url("/news/2025/0317/huge.html"),
                            "not-html": news.url("/news/2025/0317/report")}
        assert session.scalar(select(func.count()).select_from(RawDocument)) == 4  # nothing else stored
        raw = session.get(RawDocument, session.get(Article, stored[news.url(stories["liu"].path)]).raw_document_id)
        assert raw.status_code == 200 and raw.headers["etag"] and raw.headers["last-modified"]
        assert raw.headers["content-type"].startswith("text/html")

    # Clean text: the article, none of the chrome, none of the other articles' headlines.
    for story in articles:
        a = crawl_archive.article(stored[news.url(story.path)])
        assert a["title"] == story.title
        assert all(p in a["clean_text"] for p in story.paragraphs)
        assert not [m for m in CHROME if m in a["clean_text"]], a["clean_text"]
        assert not [s.title for s in articles if s is not story and s.title in a["clean_text"]]
        assert a["source"] == "fixture-news"
    gbk = stored[news.url(stories["shengwu"].path)]
    assert crawl_archive.raw_bytes(gbk) == news.pages[stories["shengwu"].path].body  # the GBK bytes, as served

    # Every article page fetched once (tracking parameters, fragments and a redirect notwithstanding);
    # the 500 was retried once; robots.txt's disallowed path never requested.
    for story in articles:
        assert news.count(story.path, 200) == 1, story.path
    assert news.count(stories["renwen"].path, 500) == 1
    assert news.count("/private/inside.html") == 0
    assert news.count("/news/2025/0317/huge.html") == 1

    second = crawl("fixture-reprints")
    assert (second["status"], second["new"], second["copies"]) == ("ok", 0, 2)
    assert news.count(stories["hidden"].path) == 0  # an offsite link is not followed
    with crawl_archive.session() as session:
        ids = dict(session.execute(select(Article.url, Article.id)).all())
    for reprint, original in copies.items():
        copy, orig = crawl_archive.article(ids[reprints.url(reprint)]), crawl_archive.article(ids[news.url(original)])
        assert copy["copy_cluster"] == orig["copy_cluster"]
        assert not [m for m in CHROME if m in copy["clean_text"]]
        assert crawl_archive.cluster(copy["copy_cluster"])["representative_id"] == orig["id"]

    hits_before = len(news.hits)
    third = crawl("fixture-news")
    assert (third["status"], third["new"], third["copies"], third["duplicates"]) == ("ok", 0, 0, 0)
    assert third["not_modified"] >= 1 and third["pages_fetched"] == 0
    again = news.hits[hits_before:]
    assert [(h.path, h.status, h.conditional) for h in again if h.path == "/"] == [("/", 304, True)]
    assert not [h for h in again if h.path.startswith("/news/")]
    with crawl_archive.session() as session:
        assert session.scalar(select(FetchState.etag).where(FetchState.url == news.url("/")))
        runs = session.scalars(select(IngestRun.job_name).where(IngestRun.kind == "crawl").order_by(IngestRun.id)).all()
    assert runs == ["fixture-news", "fixture-reprints", "fixture-news"]


def test_unknown_source_is_one_line_and_status_2(crawl_archive):
    result = CliRunner().invoke(cli, ["crawl", "nowhere", "--json"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "unknown crawl source 'nowhere'" in result.output and "fixture-news" in result.output


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the database side is the same as above
def test_feeds_through_scrapy_crawl_then_sitemap(crawl_archive, sites, tmp_path, monkeypatch):
    """`scrapy crawl feed` from spiders/ archives the feeds' articles; a sitemap crawl (robots.txt's
    Sitemap line) then finds them all archived already and requests none of them again."""
    news, _, stories, _ = sites
    config = write_config(tmp_path / "archive.toml", [
        {"name": "fixture-feed", "kind": "feed", "urls": [news.url("/rss.xml"), news.url("/atom.xml")]},
        {"name": "fixture-sitemap", "kind": "sitemap", "urls": [news.url("/robots.txt")]},
    ])
    monkeypatch.setenv("ARCHIVE_CONFIG", str(config))
    open_archive.cache_clear()
    scrapy = Path(sys.executable).parent / "scrapy"
    done = subprocess.run([str(scrapy), "crawl", "feed", "-a", "source=fixture-feed", "-s", "LOG_LEVEL=WARNING"],
                          cwd=Path(__file__).resolve().parents[1] / "spiders", env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    articles = [stories[k] for k in ("hezuo", "renwen", "shengwu", "liu")]
    with crawl_archive.session() as session:
        run = session.scalars(select(IngestRun).where(IngestRun.job_name == "fixture-feed")).one()
        assert (run.kind, run.status, run.new, run.rejected) == ("crawl", "ok", 4, 0)
        assert sorted(session.scalars(select(Article.url))) == sorted(news.url(s.path) for s in articles)
    assert news.count("/rss.xml") == news.count("/atom.xml") == 1
    assert all(news.count(s.path, 200) == 1 for s in articles)  # tracking parameters and fragments dropped

    before = len(news.hits)
    summary = crawl("fixture-sitemap")
    assert (summary["status"], summary["new"], summary["skipped"]) == ("ok", 0, 4)
    assert [r["reason"] for r in summary["rejections"]] == ["not-html"]  # the PDF the sitemap lists
    assert sorted(h.path for h in news.hits[before:]) == ["/news/2025/0317/report", "/robots.txt", "/robots.txt",
                                                          "/sitemap.xml"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sigterm_stops_a_crawl_cleanly(crawl_archive, sites, tmp_path):
    """The scheduler stops `archive crawl` with SIGTERM: the crawl ends gracefully, its run is
    recorded as interrupted, the JSON summary is still printed and the exit status is 1."""
    import signal
    import threading
    import time

    news, _, stories, _ = sites
    gate = threading.Event()
    news.pages[stories["liu"].path].gate = gate
    proc = subprocess.Popen([str(Path(sys.executable).parent / "archive"), "crawl", "fixture-news", "--json"],
                            env=dict(os.environ), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 120
        while not news.count("/") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the index's links are being requested; one of them waits at the gate
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        gate.set()
        out, err = proc.communicate(timeout=120)
    finally:
        gate.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err[-2000:]
    summary = json.loads(out)
    assert summary["status"] == "interrupted" and summary["finish_reason"] == "shutdown"
    with crawl_archive.session() as session:
        run = session.get(IngestRun, summary["run_id"])
        assert (run.status, run.new) == ("interrupted", summary["new"])
        # An interrupted crawl keeps no validators for its hubs: the next one reads the index in full.
        assert session.scalar(select(FetchState.etag).where(FetchState.url == news.url("/"))) is None
