"""Real `archive scheduler run` processes with second-level intervals, on real databases.

Each test waits for what it needs to see in the database (never for a fixed time) and gives up
with a clear message after a generous deadline.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from archive.api import Archive
from archive.config import load_settings
from archive.db.models import Article, IngestRun, JobLock, LoadedFile
from archive.scheduler import Schedules
from tests.test_scheduler import ROOT, write_stories

DEADLINE = 90.0


@pytest.fixture
def arc(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ARCHIVE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    archive = Archive(load_settings())
    yield archive
    archive.close()


@pytest.fixture
def pg_arc(pg_database, tmp_path, monkeypatch):
    from tests.conftest import _truncate_pg

    _truncate_pg(pg_database)
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", pg_database)
    monkeypatch.delenv("ARCHIVE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    archive = Archive(load_settings())
    yield archive
    archive.close()


class SchedulerProcess:
    def __init__(self, tmp_path: Path, name: str = "scheduler", batch_size: int = 20):
        self.log_path = tmp_path / f"{name}.log"
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "archive", "scheduler", "run", "--poll", "0.5", "--lock-ttl", "5"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT), ARCHIVE_BATCH_SIZE=str(batch_size),
                                                          ARCHIVE_COMMIT_SIZE="0"),  # a commit per batch
        )
        self.started = dt.datetime.now(dt.timezone.utc)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(DEADLINE)
        finally:
            self.log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def schedulers(tmp_path):
    started: list[SchedulerProcess] = []

    def start(name: str = "scheduler", batch_size: int = 20) -> SchedulerProcess:
        started.append(SchedulerProcess(tmp_path, name, batch_size))
        return started[-1]

    yield start
    for process in started:
        process.kill()


def wait_for(what: str, predicate, processes=()):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        for process in processes:
            if process.proc.poll() is not None:
                pytest.fail(f"scheduler exited with {process.proc.returncode} while waiting for {what}:\n"
                            + process.output()[-3000:])
        time.sleep(0.1)
    logs = "\n".join(_notable(p.output()) for p in processes)
    pytest.fail(f"gave up waiting for {what} after {DEADLINE}s\n{logs}")


def _notable(log: str) -> str:
    """Warnings, errors and skipped jobs in full, and the tail of the rest."""
    lines = log.splitlines()
    notable = [line for line in lines if not line[:30].count("INFO") or "skipped" in line or "stopp" in line]
    return "\n".join(notable[-80:] + ["..."] + lines[-20:])


def job_runs(archive: Archive, job: str) -> list[IngestRun]:
    with archive.session() as session:
        return list(session.scalars(select(IngestRun).where(IngestRun.job_name == job).order_by(IngestRun.id)))


def finished(archive: Archive, job: str, status: str | None = None) -> list[IngestRun]:
    return [r for r in job_runs(archive, job) if r.finished_at and (status is None or r.status == status)]


def count(archive: Archive, model) -> int:
    with archive.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_dropped_files_are_archived_by_the_next_run_and_not_again(arc, tmp_path, schedulers):
    inbox = tmp_path / "inbox"
    first = write_stories(inbox, 2)
    Schedules(arc).add("inbox", "load", str(inbox), every="1s")
    scheduler = schedulers()
    wait_for("the first run", lambda: any(r.new == 2 for r in finished(arc, "inbox", "ok")), [scheduler])

    write_stories(inbox, 1, start=50)
    (inbox / "renamed.txt").write_bytes(first[0].read_bytes())  # a renamed copy is not new
    before = len(finished(arc, "inbox"))
    wait_for("the dropped file", lambda: any(r.new == 1 for r in finished(arc, "inbox", "ok")), [scheduler])
    wait_for("two more runs", lambda: len(finished(arc, "inbox")) >= before + 3, [scheduler])

    assert scheduler.terminate() == 0
    done = finished(arc, "inbox")
    assert all(r.status == "ok" for r in done)
    assert sum(r.read for r in done) == 3 and sum(r.new for r in done) == 3
    assert count(arc, Article) == 3
    assert "job inbox started" in scheduler.output() and "job inbox ended: ok" in scheduler.output()


def test_sigterm_mid_batch_exits_0_with_the_batch_committed(arc, tmp_path, schedulers):
    inbox = tmp_path / "inbox"
    write_stories(inbox, 300)
    Schedules(arc).add("bulk", "load", str(inbox), every="1h", now=True)
    scheduler = schedulers(batch_size=20)
    wait_for("the first article", lambda: count(arc, Article) > 0, [scheduler])

    assert scheduler.terminate() == 0
    [run] = job_runs(arc, "bulk")  # no new job started after the signal
    assert run.status == "interrupted" and run.finished_at is not None
    stored = count(arc, Article)
    assert 0 < stored < 300, "the run was not stopped part-way"
    assert stored % 20 == 0, "a batch was left half-done"
    assert run.new == stored and run.read == stored  # every article read was committed and counted
    assert count(arc, LoadedFile) == stored  # each one-article file is marked loaded with its article
    assert "received SIGTERM" in scheduler.output()

    rest = Schedules(arc).run_now("bulk")
    assert rest.status == "ok" and rest.new == 300 - stored and rest.duplicates == 0
    assert count(arc, Article) == 300


def test_a_failing_job_is_recorded_and_the_next_run_succeeds(arc, tmp_path, schedulers):
    inbox = tmp_path / "later"
    schedules = Schedules(arc)
    schedules.add("later", "load", str(inbox), every="1s")
    schedules.add("site", "crawl", "no-such-source", every="1h", now=True)
    scheduler = schedulers()
    wait_for("a failed run", lambda: finished(arc, "later", "failed"), [scheduler])
    write_stories(inbox, 1)
    wait_for("a successful run", lambda: finished(arc, "later", "ok"), [scheduler])
    wait_for("the crawl run", lambda: finished(arc, "site"), [scheduler])

    assert scheduler.proc.poll() is None  # failures never stop the scheduler
    assert scheduler.terminate() == 0
    failed = finished(arc, "later", "failed")[0]
    assert "does not exist" in failed.error and str(inbox) in failed.error
    assert sum(r.new for r in finished(arc, "later", "ok")) == 1
    [crawl] = finished(arc, "site")
    assert crawl.status == "failed" and crawl.error.startswith("crawl exited with status")
    listed = {s["name"]: s for s in schedules.list()}
    assert listed["site"]["last_status"] == "failed" and listed["later"]["last_status"] in ("ok", "interrupted")


def _two_schedulers_run_each_due_job_once(archive: Archive, tmp_path: Path, schedulers) -> None:
    write_stories(tmp_path / "often", 3)
    write_stories(tmp_path / "once", 2, start=20)
    schedules = Schedules(archive)
    schedules.add("often", "load", str(tmp_path / "often"), every="1s")
    schedules.add("once", "load", str(tmp_path / "once"), every="1h", now=True)  # due when both start
    pair = [schedulers("a"), schedulers("b")]
    wait_for("six runs of the frequent job", lambda: len(finished(archive, "often")) >= 6, pair)
    wait_for("the due job", lambda: finished(archive, "once"), pair)
    assert [p.terminate() for p in pair] == [0, 0]

    [once] = job_runs(archive, "once")
    assert once.status == "ok" and once.new == 2
    often = job_runs(archive, "often")
    slots = [r.args["scheduled_for"] for r in often]
    assert len(slots) == len(set(slots)), f"a slot ran twice: {sorted(slots)}"
    for earlier, later in zip(often, often[1:]):
        assert earlier.finished_at <= later.started_at, "two runs of one job overlapped"
    assert sum(r.new for r in often) == 3 and count(archive, Article) == 5


def test_two_schedulers_on_one_sqlite_database_run_each_due_job_once(arc, tmp_path, schedulers):
    _two_schedulers_run_each_due_job_once(arc, tmp_path, schedulers)


def test_two_schedulers_on_one_postgresql_database_run_each_due_job_once(pg_arc, tmp_path, schedulers):
    _two_schedulers_run_each_due_job_once(pg_arc, tmp_path, schedulers)


def test_a_killed_scheduler_restarts_and_runs_the_missed_job_once(arc, tmp_path, schedulers):
    inbox = tmp_path / "inbox"
    write_stories(inbox, 300)
    Schedules(arc).add("bulk", "load", str(inbox), every="1s")
    first = schedulers("first")
    wait_for("the first article", lambda: count(arc, Article) > 0, [first])
    first.kill()  # SIGKILL mid-run: its lock row and its run row stay behind
    assert count(arc, JobLock) == 1

    def slots_missed() -> bool:
        with arc.session() as session:
            due = session.scalar(text("SELECT next_run_time FROM apscheduler_jobs WHERE id = 'bulk'"))
        return due < time.time() - 2.5  # at least two slots passed with no scheduler up
    wait_for("missed slots", slots_missed)

    second = schedulers("second")
    wait_for("a run after the restart", lambda: [r for r in finished(arc, "bulk", "ok") if r.new > 0], [second])
    assert second.terminate() == 0

    killed, *after = job_runs(arc, "bulk")
    assert killed.status == "failed" and "abandoned" in killed.error
    first_start = after[0].started_at.replace(tzinfo=dt.timezone.utc)
    missed = [r for r in after if dt.datetime.fromisoformat(r.args["scheduled_for"]) <= first_start]
    assert len(missed) == 1, "the missed slots ran more than once"
    assert count(arc, Article) == 300 and killed.new == 0  # the killed run's counts were never written


def test_readme_walkthrough_load_and_crawl_jobs(arc, tmp_path, schedulers, monkeypatch):
    """README, "Run it unattended": a load job on a folder and a crawl job on a (fixture) site."""
    from click.testing import CliRunner

    from archive.cli import cli
    from archive.cli.context import open_archive
    from tests.crawl_site import FixtureServer, news_site, write_config

    def archive_cmd(*args: str):
        open_archive.cache_clear()
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output) if "--json" in args else result.output

    with FixtureServer() as site:
        news_site(site)
        config = write_config(tmp_path / "archive.toml", [
            {"name": "fixture-news", "kind": "site", "urls": [site.url("/")], "articles": [r"/news/\d{4}/"]}])
        monkeypatch.setenv("ARCHIVE_CONFIG", str(config))
        monkeypatch.delenv("ARCHIVE_REDIS_URL", raising=False)
        (tmp_path / "inbox").mkdir()
        archive_cmd("schedule", "add", "inbox", "--load", "inbox", "--every", "2s")
        archive_cmd("schedule", "add", "news", "--crawl", "fixture-news", "--every", "1h", "--now")
        scheduler = schedulers()
        [dropped] = write_stories(tmp_path / "inbox", 1, start=77)
        wait_for("the crawl", lambda: finished(arc, "news"), [scheduler])
        wait_for("the dropped file", lambda: [r for r in finished(arc, "inbox") if r.new == 1], [scheduler])
        assert scheduler.terminate() == 0

    history = archive_cmd("runs", "--json")
    [crawl] = [r for r in history if r["job_name"] == "news"]
    assert crawl["kind"] == "crawl" and crawl["status"] == "ok" and crawl["new"] > 0, crawl
    assert crawl["args"]["schedule"] == "news" and crawl["args"]["scheduled_for"]
    assert not [r for r in history if r["job_name"] == "fixture-news"], "one row per crawl"
    assert sum(r["new"] for r in history if r["job_name"] == "inbox") == 1
    titles = [c["title"] for c in archive_cmd("clusters", "--json")]
    assert dropped.read_text().splitlines()[0] in titles
    listed = {s["name"]: s for s in archive_cmd("schedule", "list", "--json")}
    assert listed["news"]["last_status"] == "ok"


def cut_connections(archive: Archive) -> int:
    """Terminate every other connection to the archive's database, as a restart or failover does."""
    with archive.engine.connect() as conn:
        return conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()


def test_the_scheduler_outlives_dropped_database_connections(pg_arc, tmp_path, schedulers):
    """PostgreSQL restarts or failovers cut every connection: runs fail or retry, the scheduler goes on."""
    inbox = tmp_path / "inbox"
    write_stories(inbox, 2)
    Schedules(pg_arc).add("inbox", "load", str(inbox), every="1s")
    scheduler = schedulers()
    wait_for("the first run", lambda: finished(pg_arc, "inbox", "ok"), [scheduler])
    for round_ in range(3):
        # Right after a cut the scheduler may hold no connection until its next tick reconnects:
        # cut again until the cut meets one.
        wait_for(f"a connection to cut in round {round_}", lambda: cut_connections(pg_arc) >= 1, [scheduler])
        write_stories(inbox, 1, start=100 + round_)
        # The run that stored the file has also recorded its count before the next cut: a cut
        # between the two is another round's matter, not what the sum below checks.
        wait_for(f"the file of round {round_}", lambda: count(pg_arc, Article) == 3 + round_
                 and sum(r.new for r in finished(pg_arc, "inbox")) == 3 + round_, [scheduler])
    assert scheduler.proc.poll() is None
    assert scheduler.terminate() == 0
    assert sum(r.new for r in finished(pg_arc, "inbox")) == 5
    assert all(r.finished_at for r in job_runs(pg_arc, "inbox")), "a run was left running"


def test_sigterm_during_a_scheduled_crawl_stops_it_cleanly(arc, tmp_path, schedulers, monkeypatch):
    import threading

    from tests.crawl_site import FixtureServer, news_site, write_config

    with FixtureServer() as site:
        stories = news_site(site)
        gate = threading.Event()
        site.pages[stories["liu"].path].gate = gate  # one page answers only when the gate opens
        config = write_config(tmp_path / "archive.toml", [
            {"name": "fixture-news", "kind": "site", "urls": [site.url("/")], "articles": [r"/news/\d{4}/"]}])
        monkeypatch.setenv("ARCHIVE_CONFIG", str(config))
        monkeypatch.delenv("ARCHIVE_REDIS_URL", raising=False)
        Schedules(arc).add("news", "crawl", "fixture-news", every="1h", now=True)
        scheduler = schedulers()
        try:
            wait_for("the crawl to reach the index", lambda: site.count("/"), [scheduler])
            time.sleep(0.5)  # the index's links are being requested; one of them waits at the gate
            scheduler.proc.send_signal(signal.SIGTERM)
            wait_for("the scheduler to stop", lambda: "stopping" in scheduler.output())
            time.sleep(1.0)  # the stop reaches the crawler before the gated answer does
        finally:
            gate.set()
        assert scheduler.terminate() == 0

    [run] = job_runs(arc, "news")  # the crawl's own row, named after the schedule: one row
    assert run.kind == "crawl" and run.status == "interrupted" and run.finished_at is not None
    assert run.args["schedule"] == "news"
    assert count(arc, Article) == run.new
