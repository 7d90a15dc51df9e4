"""Real Scrapy crawls (child processes, as `archive crawl` runs them) of the fixture news sites."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

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
