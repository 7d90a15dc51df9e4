"""Two crawler processes on one Redis frontier and one PostgreSQL archive fetch each page once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from archive.db.models import Article, IngestRun
from tests.conftest import _truncate_pg
from tests.crawl_site import FixtureServer, paragraph_site, write_config

REDIS_URL = "redis://127.0.0.1:6379/0"
ARCHIVE = str(Path(sys.executable).parent / "archive")


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    yield client
    client.close()


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_two_workers_share_one_frontier(pg_database, redis_client, tmp_path):
    _truncate_pg(pg_database)
    prefix = f"test:archive:{uuid.uuid4().hex}"
    gate = threading.Event()
    # Each answer takes a moment, so that the first worker cannot take every page before the second
    # has started asking.
    with FixtureServer(delay=0.25) as site:
        paths = paragraph_site(site, gate)
        config = write_config(tmp_path / "archive.toml", [{
            "name": "shared", "kind": "site", "urls": [site.url("/")], "articles": ["/news/"],
            "scrapy": {"ARCHIVE_REDIS_PREFIX": prefix, "ARCHIVE_REDIS_IDLE_SECONDS": 1,
                       "CONCURRENT_REQUESTS": 1},  # a worker takes one request at a time from the queue
        }])
        env = {**os.environ, "ARCHIVE_CONFIG": str(config), "ARCHIVE_DATABASE_URL": pg_database,
               "ARCHIVE_REDIS_URL": REDIS_URL}
        workers = []
        try:
            for _ in range(2):
                workers.append(subprocess.Popen([ARCHIVE, "crawl", "shared", "--json"], env=env, cwd=tmp_path,
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            # Article pages answer once both workers have joined the frontier.
            joined = wait_for(lambda: redis_client.hlen(f"{prefix}:workers") == 2, 150)
            seen = (redis_client.hgetall(f"{prefix}:workers"), [(h.path, h.status) for h in site.hits])
            gate.set()
            outputs = [w.communicate(timeout=180) for w in workers]
            assert joined, f"the second worker never joined the frontier: {seen} {outputs}"
        finally:
            gate.set()
            for w in workers:
                if w.poll() is None:
                    w.kill()
            leftover = redis_client.keys(f"{prefix}:*")
            if leftover:
                redis_client.delete(*leftover)
        summaries = []
        for worker, (out, err) in zip(workers, outputs):
            assert worker.returncode == 0, err[-2000:]
            summaries.append(json.loads(out))

        # Each page fetched exactly once by the two workers together (robots.txt is per worker).
        assert site.count("/") == 1
        assert {p: site.count(p) for p in paths} == {p: 1 for p in paths}
        assert site.count("/about.html") == site.count("/private/inside.html") == 1  # the chrome's links: 404s
        assert sum(s["pages_fetched"] for s in summaries) == len(paths) + 3
        assert all(s["pages_fetched"] > 0 for s in summaries), summaries
        assert site.count("/robots.txt") == 2  # each worker reads robots.txt itself
        assert sum(s["new"] + s["copies"] for s in summaries) == len(paths)
        assert sum(s["duplicates"] for s in summaries) == 0
    assert leftover == []  # the last worker to leave cleared the frontier

    engine = create_engine(pg_database)
    with Session(engine) as session:
        urls = session.scalars(select(Article.url)).all()
        runs = session.execute(select(IngestRun.kind, IngestRun.job_name, IngestRun.status)).all()
    engine.dispose()
    assert sorted(urls) == sorted(site.url(p) for p in paths)
    assert runs == [("crawl", "shared", "ok")] * 2
