"""Several ingest processes at once, fed overlapping inputs: the archive ends with exactly the
partition one serial run gives (no article twice, none lost, no copy cluster split because two
workers placed two copies of one text at the same moment), on PostgreSQL with four workers and on
SQLite with two (the second waits for the first's write lock: busy timeout, never corruption)."""

from __future__ import annotations

import json

import pytest

from tests import runs, synth

VERSIONS = 4  # an original and three reprints of each base text


def worker_inputs(files, workers: int) -> list[list]:
    """Worker k gets versions k and k+1 of every base, in the same base order as the others:
    every file goes to two workers, and every text's copies are placed by several at once."""
    by_version: dict[int, list] = {}
    for path in files:
        by_version.setdefault(int(path.stem.split("-")[1]), []).append(path)
    out = []
    for k in range(workers):
        mine = by_version[k % VERSIONS] + by_version[(k + 1) % VERSIONS]
        out.append(sorted(mine, key=lambda p: (p.name.split("-")[0], p.name)))
    return out


def run_together(url: str, inputs: list[list], tmp_path) -> list[dict]:
    procs = [runs.start_ingest(url, paths, tmp_path / f"worker{k}", batch_size=4) for k, paths in enumerate(inputs)]
    codes = [p.wait(timeout=600) for p in procs]
    errors = [(tmp_path / f"worker{k}.err").read_text() for k in range(len(procs))]
    assert codes == [0] * len(procs), errors
    return [json.loads((tmp_path / f"worker{k}.out").read_text()) for k in range(len(procs))]


def assert_one_serial_run(url: str, files, summaries: list[dict]) -> None:
    assert runs.scalar(url, "SELECT count(*) FROM articles") == len(files)  # none twice, none lost
    assert runs.scalar(url, "SELECT count(*) FROM raw_documents") == len(files)
    truth = runs.truth(files)
    got = runs.partitions(url)
    assert got["copy"] == truth, f"{len(got['copy'])} copy clusters for {len(truth)} texts"
    assert got["event"] == truth
    stored = sum(s["new"] + s["copies"] for s in summaries)
    assert stored == len(files)
    assert sum(s["duplicates"] for s in summaries) == sum(s["read"] for s in summaries) - len(files)
    report = runs.check(url)
    assert report.ok, report.as_dict()


def test_four_postgresql_workers_with_overlapping_inputs(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL runs several writers; SQLite is tested with two below")
    files = synth.write_files(tmp_path / "in", range(20), reprints=VERSIONS - 1)
    summaries = run_together(db_url, worker_inputs(files, 4), tmp_path)
    assert_one_serial_run(db_url, files, summaries)


def test_two_sqlite_processes_wait_for_each_other(sqlite_url, tmp_path):
    files = synth.write_files(tmp_path / "in", range(25), reprints=VERSIONS - 1)
    inputs = worker_inputs(files, 2)  # versions 0 and 1, and 1 and 2: version 1 goes to both
    files = sorted({p for paths in inputs for p in paths})
    summaries = run_together(sqlite_url, inputs, tmp_path)
    assert runs.scalar(sqlite_url, "PRAGMA integrity_check") == "ok"
    assert_one_serial_run(sqlite_url, files, summaries)


def test_a_deadlock_with_another_transaction_is_retried_not_surfaced(db_url, tmp_path, caplog):
    """A real deadlock: another session holds the row lock of the copy cluster an ingest must
    update, the ingest waits for it, then that session asks for a placement lock the ingest
    holds. The server aborts the ingest's transaction (the first waiter finds the cycle); the
    ingest runs the batch again and finishes as if nothing happened."""
    import logging
    import threading
    import time

    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from archive.api import Archive
    from archive.config import load_settings
    from archive.db import locks
    from archive.pipeline.batch import prepare_batch
    from archive.pipeline.loaders import load
    from archive.pipeline.store import placement_keys

    if not db_url.startswith("postgresql"):
        pytest.skip("deadlocks between row and advisory locks are a PostgreSQL matter")
    original, reprint = synth.write_files(tmp_path / "in", [0], reprints=1)
    settings = load_settings({"ARCHIVE_DATABASE_URL": db_url})
    with Archive(settings) as archive:
        archive.ingest_paths([original])
    held_by_ingest = locks.stripes(placement_keys(prepare_batch(list(load([reprint])), settings).items))[0]
    side = create_engine(db_url, poolclass=NullPool)
    caplog.set_level(logging.INFO, logger="archive.pipeline.ingest")
    result: dict = {}

    def ingest() -> None:
        with Archive(settings) as arc:
            result["summary"] = arc.ingest_paths([reprint])

    with side.connect() as conn:
        conn.execute(text("SELECT id FROM clusters FOR UPDATE"))  # every cluster row, in this transaction
        worker = threading.Thread(target=ingest)
        worker.start()
        deadline = time.monotonic() + 60
        side_pid = conn.scalar(text("SELECT pg_backend_pid()"))
        while not runs.scalar(db_url, (  # a fresh session each time: activity is a snapshot per transaction
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                f"AND wait_event_type = 'Lock' AND pid <> {side_pid}")):
            assert time.monotonic() < deadline, "the ingest never waited for the cluster rows"
            time.sleep(0.05)
        conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :stripe)"),
                     {"ns": locks.LOCK_NAMESPACE, "stripe": held_by_ingest})
        conn.commit()
    side.dispose()
    worker.join(timeout=120)
    summary = result["summary"]
    assert (summary.status, summary.copies, summary.new) == ("ok", 1, 0)
    assert any("rolled back" in r.getMessage() and "deadlock" in r.getMessage() for r in caplog.records)
    assert runs.partitions(db_url)["copy"] == runs.truth([original, reprint])
    assert runs.check(db_url).ok
