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
