"""Faults: an ingest killed with SIGKILL at a random point, or cut off from PostgreSQL mid-run,
leaves a consistent archive, and the next run ends exactly where one uninterrupted run would."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from archive.api import Archive
from archive.config import load_settings
from tests import runs, synth


@pytest.fixture
def files(tmp_path):
    # Large enough that the ingest is still running when the fault lands, on an idle fast machine
    # too (about 600 articles/s there): the fault comes within the first third of the input. With
    # 120 articles the cut could meet the recording of the run's end, which is retried, not the batches.
    return synth.write_files(tmp_path / "in", range(360), reprints=2)


def wait_for_articles(url: str, proc, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        n = runs.scalar(url, "SELECT count(*) FROM articles")
        if n >= at_least:
            return n
        time.sleep(0.05)
    raise AssertionError(f"the ingest stopped or stalled before {at_least} articles (exit {proc.poll()})")


def assert_finished_like_one_run(url: str, files, tmp_path, stored: int) -> None:
    with Archive(load_settings({"ARCHIVE_DATABASE_URL": url})) as archive:
        summary = archive.ingest_paths([tmp_path / "in"])
        assert (summary.status, summary.rejected, summary.duplicates) == ("ok", 0, stored)
        assert archive.check().ok
    assert runs.scalar(url, "SELECT count(*) FROM articles") == len(files)
    assert runs.partitions(url)["copy"] == runs.truth(files)
    assert runs.partitions(url)["event"] == runs.truth(files)


def test_sigkill_at_a_random_point_then_rerun_equals_one_run(db_url, files, tmp_path):
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    kill_after = rng.randint(5, len(files) // 3)
    proc = runs.start_ingest(db_url, [tmp_path / "in"], tmp_path / "killed")
    wait_for_articles(db_url, proc, kill_after)
    time.sleep(rng.random() * 0.1)
    workers = children_of(proc.pid)  # batches of 5 from 120 files: it prepares in worker processes
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert workers and all(gone_within(pid, 10) for pid in workers), "workers outlived the killed ingest"
    stored = runs.scalar(db_url, "SELECT count(*) FROM articles")
    assert kill_after <= stored < len(files), f"seed {seed}"
    report = runs.check(db_url)  # nothing half-stored even before the rerun
    assert report.ok, f"seed {seed}: {report.as_dict()}"
    assert_finished_like_one_run(db_url, files, tmp_path, stored)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                if entry.isdigit() and int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


def cut_the_writer_inside_a_batch(url: str, proc, timeout: float = 60) -> int:
    """Hold every placement lock stripe of `url`'s database, wait until the ingest's writer blocks
    on one inside its batch transaction, terminate its server process, then let go; the pid cut.

    Cutting whichever backend pg_stat_activity shows inside a transaction races the writer: the
    snapshot may be a few milliseconds old, the transaction committed by the time the signal lands,
    and the pool's pre-ping then reconnects unseen (CI saw the run end with status 0). A writer
    waiting on an advisory lock is inside its transaction until something ends it."""
    from archive.db.locks import LOCK_NAMESPACE, LOCK_STRIPES

    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    deadline = time.monotonic() + timeout
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(pg_advisory_lock(:ns, s)) FROM generate_series(0, :n - 1) AS s"),
                         {"ns": LOCK_NAMESPACE, "n": LOCK_STRIPES})
            try:
                while proc.poll() is None and time.monotonic() < deadline:
                    waiting = conn.execute(text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND wait_event = 'advisory' "
                        "AND xact_start IS NOT NULL")).scalars().all()
                    if waiting:
                        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting[0]})
                        return waiting[0]
                    time.sleep(0.005)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock_all()"))
    finally:
        engine.dispose()
    return 0


def test_postgresql_connection_lost_mid_run_fails_cleanly_and_next_run_picks_up(db_url, files, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL fault")
    proc = runs.start_ingest(db_url, [tmp_path / "in"], tmp_path / "cut")
    wait_for_articles(db_url, proc, 10)
    assert cut_the_writer_inside_a_batch(db_url, proc), "the run ended before its writer could be cut"
    status = proc.wait(timeout=120)
    err = (tmp_path / "cut.err").read_text()
    assert status == 2, err
    assert err.strip().splitlines()[-1].startswith(f"error: database {db_url} failed: ")
    assert "Traceback" not in err and "[SQL:" not in err
    engine = create_engine(db_url)
    with engine.connect() as conn:
        run_status, error = conn.execute(text("SELECT status, error FROM ingest_runs ORDER BY id DESC LIMIT 1")).one()
    engine.dispose()
    assert run_status == "failed" and error.startswith("OperationalError: ") and "[SQL:" not in error
    assert runs.check(db_url).ok  # the batch in flight was rolled back whole
    stored = runs.scalar(db_url, "SELECT count(*) FROM articles")
    assert_finished_like_one_run(db_url, files, tmp_path, stored)


def test_sqlite_locked_past_the_busy_timeout_is_one_clear_line():
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from archive.db.engine import describe_database_error

    exc = OperationalError("INSERT INTO articles ...", {"clean_text": "..."}, sqlite3.OperationalError("database is locked"))
    message = describe_database_error(exc, "sqlite:///data/archive.db")
    assert message.startswith("the archive sqlite:///data/archive.db is locked by another process (waited 30 s)")
    assert "INSERT" not in message and "\n" not in message
