"""Schedules, job locks and incremental loading, in this process against real databases.

The scheduler processes themselves are tested in test_scheduler_process.py.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive.cli import cli
from archive.db.models import Article, JobLock, LoadedFile, utcnow
from archive.errors import ScheduleError
from archive.jobs import JobRunner, JobSpec, crawl_report
from archive.locks import AdvisoryLock, RowLock, job_lock
from archive.scheduler import Schedules, parse_every

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("market river council school storm election bridge museum harvest festival library railway "
         "hospital airport orchestra vaccine drought satellite tariff stadium").split()


def write_stories(folder: Path, count: int, start: int = 0, seed: int = 7) -> list[Path]:
    """Distinct synthetic English stories, one per .txt file (no two are copies of each other)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + start)
    paths = []
    for i in range(start, start + count):
        paragraphs = ["Reported on the {}th day. ".format(i) + " ".join(
            f"{rng.choice(WORDS)}{rng.randint(0, 10**6)}" for _ in range(40)) + "." for _ in range(3)]
        path = folder / f"story{i:04d}.txt"
        path.write_text(f"Story number {i} about {rng.choice(WORDS)}\n\n" + "\n\n".join(paragraphs) + "\n")
        paths.append(path)
    return paths


def count(archive, model) -> int:
    with archive.session() as session:
        return session.scalar(select(func.count()).select_from(model))


# -- incremental loading ----------------------------------------------------------------------------


def test_load_job_reads_only_new_or_changed_files(archive, tmp_path):
    inbox = tmp_path / "inbox"
    first = write_stories(inbox, 3)
    summary = archive.load_new(str(inbox), "inbox")
    assert (summary.status, summary.read, summary.new) == ("ok", 3, 3)

    assert archive.load_new(str(inbox), "inbox").read == 0
    first[0].rename(inbox / "renamed.txt")  # same content under another name: not new
    (inbox / "copy.txt").write_bytes(first[1].read_bytes())
    assert archive.load_new(str(inbox), "inbox").read == 0

    first[2].write_text(first[2].read_text() + "\nA correction was added later.\n")  # changed: new content
    write_stories(inbox, 1, start=10)
    summary = archive.load_new(str(inbox), "inbox")
    assert summary.read == 2
    assert count(archive, LoadedFile) == 5
    # Another job keeps its own record of what it loaded: it reads everything once (all duplicates now).
    other = archive.load_new(str(inbox), "other")
    assert other.read == 4 and other.new == 0 and other.duplicates == 4


def test_load_job_globs_and_a_missing_folder_fails_the_run(archive, tmp_path):
    write_stories(tmp_path / "a", 2)
    write_stories(tmp_path / "b", 2, start=5)
    summary = archive.load_new(str(tmp_path / "*" / "story000[05].txt"), "glob")
    assert (summary.read, summary.new) == (2, 2)

    with pytest.raises(Exception, match="does not exist"):
        archive.load_new(str(tmp_path / "nowhere"), "missing")
    last = archive.runs(limit=1)[0]
    assert last["job_name"] == "missing" and last["status"] == "failed" and "does not exist" in last["error"]


def test_job_runner_records_one_run_per_job(archive, tmp_path):
    write_stories(tmp_path / "in", 2)
    runner = JobRunner(archive.settings)
    summary = runner.run(JobSpec("in", "load", str(tmp_path / "in")), scheduled_for="2026-01-01T00:00:00+00:00")
    assert summary.status == "ok" and summary.new == 2
    row = archive.runs(limit=1)[0]
    assert row["kind"] == "scheduled" and row["job_name"] == "in" and row["new"] == 2
    assert row["args"]["scheduled_for"] == "2026-01-01T00:00:00+00:00"
    assert count(archive, JobLock) == 0  # released

    runner.stop()
    assert runner.run(JobSpec("in", "load", str(tmp_path / "in"))) is None  # a stopping runner starts nothing


def test_crawl_job_of_an_unknown_source_is_recorded_as_failed(archive):
    summary = JobRunner(archive.settings).run(JobSpec("nowhere", "crawl", "no-such-source"))
    assert summary.status == "failed"
    row = archive.runs(limit=1)[0]
    assert row["job_name"] == "nowhere" and row["status"] == "failed"
    assert row["error"].startswith("crawl exited with status") and len(row["error"]) > 30


def test_crawl_report_takes_the_last_json_object():
    out = b'log line\n{"new": 1}\n{\n  "read": 3,\n  "new": 2\n}\n'
    assert crawl_report(out) == {"read": 3, "new": 2}
    assert crawl_report(b"no json here") == {}


# -- locks ------------------------------------------------------------------------------------------


def test_a_job_lock_is_held_once(archive):
    first, second = job_lock(archive.engine, "job-a", ttl=30), job_lock(archive.engine, "job-a", ttl=30)
    other = job_lock(archive.engine, "job-b", ttl=30)
    assert first.acquire()
    assert not second.acquire()
    assert other.acquire()
    first.release()
    assert second.acquire()
    second.release()
    other.release()
    if archive.engine.dialect.name == "postgresql":
        assert isinstance(first, AdvisoryLock)
    else:
        assert isinstance(first, RowLock) and count(archive, JobLock) == 0


def _plant_lock(archive, name: str, holder: str, expires_in: float) -> None:
    with archive.session() as session, session.begin():
        session.add(JobLock(name=name, holder=holder, expires_at=utcnow() + dt.timedelta(seconds=expires_in)))


def test_row_lock_of_a_vanished_holder_expires(sqlite_url, monkeypatch, tmp_path):
    from archive.api import Archive
    from archive.config import load_settings

    monkeypatch.setenv("ARCHIVE_DATABASE_URL", sqlite_url)
    with Archive(load_settings()) as archive:
        _plant_lock(archive, "remote", "another-host:123:abc", expires_in=60)
        assert not RowLock(archive.engine, "remote").acquire()  # alive as far as we can tell
        with archive.session() as session, session.begin():
            session.get(JobLock, "remote").expires_at = utcnow() - dt.timedelta(seconds=1)
        lock = RowLock(archive.engine, "remote")
        assert lock.acquire()  # expired
        lock.release()

        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        import socket

        _plant_lock(archive, "local", f"{socket.gethostname()}:{int(dead.stdout)}:old", expires_in=600)
        lock = RowLock(archive.engine, "local")
        assert lock.acquire()  # same host, process gone: no need to wait for the expiry
        lock.release()


def test_advisory_lock_is_freed_when_its_connection_ends(pg_database):
    from archive.db.engine import make_engine

    holder_engine, other_engine = make_engine(pg_database), make_engine(pg_database)
    try:
        held = AdvisoryLock(holder_engine, "pg-job")
        assert held.acquire()
        assert not AdvisoryLock(other_engine, "pg-job").acquire()
        held._conn.invalidate()  # what a killed process looks like to the server: the session is gone
        held._conn = None
        lock = AdvisoryLock(other_engine, "pg-job")
        deadline = time.monotonic() + 30  # the server ends the backend shortly after the client is gone
        while not lock.acquire():
            assert time.monotonic() < deadline, "the advisory lock outlived its connection"
            time.sleep(0.05)
        lock.release()
    finally:
        holder_engine.dispose()
        other_engine.dispose()


# -- schedules --------------------------------------------------------------------------------------


def test_parse_every():
    assert parse_every("30m") == dt.timedelta(minutes=30)
    assert parse_every("2d") == dt.timedelta(days=2)
    for bad in ("", "0s", "10", "5w", "m5"):
        with pytest.raises(ScheduleError, match="--every"):
            parse_every(bad)


def test_schedules_are_stored_in_the_archive(archive, tmp_path):
    schedules = Schedules(archive)
    added = schedules.add("inbox", "load", str(tmp_path / "in"), every="15m")
    assert added["trigger"] == "every 15m" and added["target"] == str(tmp_path / "in") and not added["paused"]
    schedules.add("site", "crawl", "example", cron="*/15 * * * *", now=True)
    with pytest.raises(ScheduleError, match="exists"):
        schedules.add("inbox", "load", "x", every="1h")
    with pytest.raises(ScheduleError, match="crontab"):
        schedules.add("bad", "load", "x", cron="every day")
    with pytest.raises(ScheduleError, match="name"):
        schedules.add("no spaces", "load", "x", every="1h")

    assert schedules.pause("inbox")["paused"] is True
    assert schedules.resume("inbox")["next_run"] is not None
    assert [s["name"] for s in Schedules(archive).list()] == ["site", "inbox"]  # by next run: site is due
    schedules.remove("site")
    with pytest.raises(ScheduleError, match="no schedule"):
        schedules.remove("site")
    assert [s["name"] for s in schedules.list()] == ["inbox"]


def test_schedule_cli(archive, tmp_path):
    runner = CliRunner()
    write_stories(tmp_path / "in", 2)
    result = runner.invoke(cli, ["schedule", "add", "inbox", "--load", str(tmp_path / "in"), "--every", "1h", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["name"] == "inbox"

    result = runner.invoke(cli, ["schedule", "add", "bad", "--load", "x", "--every", "soon"])
    assert result.exit_code == 2 and "error: --every 'soon'" in result.output
    result = runner.invoke(cli, ["schedule", "add", "both", "--load", "x", "--crawl", "y", "--every", "1h"])
    assert result.exit_code == 2 and "exactly one of --crawl" in result.output
    result = runner.invoke(cli, ["schedule", "pause", "nothing"])
    assert result.exit_code == 2 and result.output.strip().count("\n") == 0

    result = runner.invoke(cli, ["schedule", "run-now", "inbox", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["new"] == 2
    listed = json.loads(runner.invoke(cli, ["schedule", "list", "--json"]).output)
    assert listed[0]["last_status"] == "ok" and listed[0]["last_run"]
    assert "inbox" in runner.invoke(cli, ["schedule", "list"]).output
    assert runner.invoke(cli, ["schedule", "remove", "inbox"]).exit_code == 0
    assert count(archive, Article) == 2


def test_a_due_run_is_claimed_by_one_scheduler_only(archive, tmp_path):
    from archive.api import Archive
    from archive.scheduler import build_scheduler

    Schedules(archive).add("due", "load", str(tmp_path), every="1h", now=True)
    other_archive = Archive(archive.settings)  # another process's view: its own engine
    pair = [build_scheduler(archive), build_scheduler(other_archive)]
    try:
        for scheduler in pair:
            scheduler.start(paused=True)  # job stores open, nothing processed
        stores = [scheduler._lookup_jobstore("default") for scheduler in pair]
        now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
        first, second = stores[0].claim_due(now), stores[1].claim_due(now)
        assert [job.id for job in first] == ["due"] and second == []
        assert dt.datetime.fromisoformat(first[0].kwargs["scheduled_for"]) <= now
        # The claim moved the stored next run an interval on: nothing is due any more.
        assert stores[1].get_next_run_time() > now + dt.timedelta(minutes=59)
        assert stores[0].claim_due(now) == []
    finally:
        for scheduler in pair:
            scheduler.shutdown(wait=False)
        other_archive.close()
