"""Stress: four ingest workers on one PostgreSQL with overlapping inputs, a SIGKILLed run picked up
again, and the hostile corpus, then what the archive holds against what went in.

Phases, all into one fresh PostgreSQL database (dropped at the end unless --keep):

1. overlap: BASES base texts, each with an original and three reprints (plain-text files), fed to
   four `archive ingest` processes at once; every file goes to two workers, in the same order,
   so copies of one text are placed by different workers at the same moment.
2. sigkill: KILL_BASES more texts (original and one reprint each) ingested by one process, killed
   with SIGKILL at a random point, then ingested again.
3. hostile: the corpus of tests/hostile.py (binary, truncated UTF-8, mislabelled encodings, a
   50 MB file, a 10 MB line, malformed JSONL, decompression bombs, odd names, symlink loops...).

Then it prints: articles in (distinct inputs, and inputs read counting repeats), stored,
rejected, duplicates stored (articles beyond one per input, plus extra copy clusters a text was
split into: must be 0), lost (inputs that should be archived and are not: must be 0), check
violations (`archive check`: must be 0), whether the copy partition equals the serial truth, and
the wall time of each phase. Exit status 1 if any must-be-0 figure is not 0.

    python benchmarks/stress.py                 # 250 bases: 1,000 overlapping files, 4 workers
    python benchmarks/stress.py --bases 1000 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from archive.api import Archive  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.db import migrate  # noqa: E402
from archive.db.engine import mask_url  # noqa: E402
from tests import hostile, runs, synth  # noqa: E402

PG_ADMIN_URL = os.environ.get("ARCHIVE_STRESS_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORKERS = 4
VERSIONS = 4


def worker_inputs(files: list[Path], workers: int) -> list[list[Path]]:
    """Worker k gets versions k and k+1 of every base, in base order: each file goes to two workers."""
    by_version: dict[int, list[Path]] = {}
    for path in files:
        by_version.setdefault(int(path.stem.split("-")[1]), []).append(path)
    return [sorted(by_version[k % VERSIONS] + by_version[(k + 1) % VERSIONS], key=lambda p: p.name)
            for k in range(workers)]


def wait_all(procs: list[subprocess.Popen], logs: list[Path]) -> list[dict]:
    out = []
    for proc, log in zip(procs, logs):
        code = proc.wait()
        if code != 0:
            raise SystemExit(f"a worker failed (exit {code}): {log.with_suffix('.err').read_text()[-2000:]}")
        out.append(json.loads(log.with_suffix(".out").read_text()))
    return out


def phase_overlap(url: str, work: Path, bases: int, batch_size: int) -> tuple[list[Path], list[dict]]:
    files = synth.write_files(work / "overlap", range(bases), reprints=VERSIONS - 1)
    inputs = worker_inputs(files, WORKERS)
    logs = [work / f"overlap-worker{k}" for k in range(WORKERS)]
    procs = [runs.start_ingest(url, paths, log, batch_size) for paths, log in zip(inputs, logs)]
    return files, wait_all(procs, logs)


def phase_sigkill(url: str, work: Path, first: int, count: int, batch_size: int, rng: random.Random) -> dict:
    files = synth.write_files(work / "killed", range(first, first + count), reprints=1)
    before = runs.scalar(url, "SELECT count(*) FROM articles")
    batch_size = min(batch_size, 10)  # many commits, so the kill lands inside the run
    target = before + rng.randint(1, max(1, len(files) - 3 * batch_size))
    proc = runs.start_ingest(url, [work / "killed"], work / "killed-run", batch_size)
    while proc.poll() is None and runs.scalar(url, "SELECT count(*) FROM articles") < target:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = runs.scalar(url, "SELECT count(*) FROM articles") - before
    again = runs.start_ingest(url, [work / "killed"], work / "killed-rerun", batch_size)
    summary = wait_all([again], [work / "killed-rerun"])[0]
    return {"files": files, "stored_when_killed": f"{at_kill} of {len(files)}", "rerun": summary}


def phase_hostile(url: str, work: Path) -> tuple[list[hostile.Expect], Path, dict]:
    folder = work / "hostile"
    expectations = hostile.build(folder)
    summary = wait_all([runs.start_ingest(url, [folder], work / "hostile-run", 200)], [work / "hostile-run"])[0]
    return expectations, folder, summary


def measure(url: str, good_urls: set[str], truth: runs.Partition, hostile_expected: dict[str, str]) -> dict:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        stored = conn.scalar(text("SELECT count(*) FROM articles"))
        urls = [u for (u,) in conn.execute(text("SELECT url FROM articles"))]
        locations = {loc for (loc,) in conn.execute(text(
            "SELECT r.location FROM articles a JOIN raw_documents r ON r.id = a.raw_document_id"))}
        rejected = {loc for (loc,) in conn.execute(text("SELECT DISTINCT location FROM rejected_inputs"))}
    engine.dispose()
    copy_partition = runs.partitions(url)["copy"]
    split = 0
    for group in truth:
        split += len([c for c in copy_partition if c & group]) - 1
    lost = len(good_urls - set(urls)) + len([loc for loc, outcome in hostile_expected.items()
                                             if outcome == "archived" and loc not in locations])
    with Archive(load_settings({"ARCHIVE_DATABASE_URL": url})) as archive:
        report = archive.check()
    synth_partition = {c for c in copy_partition if c & good_urls}
    return {
        "stored": stored,
        "rejected": len(rejected),
        "duplicates_stored": (len(urls) - len(set(urls))) + split,
        "lost": lost,
        "check_violations": report.total,
        "check_rules": [v.rule for v in report.violations],
        "partition_equals_serial_truth": synth_partition == truth,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bases", type=int, default=250, help="base texts in the overlap phase (4 files each)")
    parser.add_argument("--kill-bases", type=int, default=150, help="base texts in the SIGKILL phase (2 files each)")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database and the work folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect():
            pass
    except Exception as exc:  # noqa: BLE001
        print(f"stress: PostgreSQL is not reachable at {mask_url(PG_ADMIN_URL)} ({exc}): nothing measured")
        return 2
    name = f"archive_stress_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    work = Path(tempfile.mkdtemp(prefix="archive-stress-"))
    timings: dict[str, float] = {}
    try:
        migrate.upgrade(url)
        t0 = time.perf_counter()
        overlap_files, overlap_runs = phase_overlap(url, work, args.bases, args.batch_size)
        t1 = time.perf_counter()
        killed = phase_sigkill(url, work, args.bases, args.kill_bases, args.batch_size, rng)
        t2 = time.perf_counter()
        expectations, folder, hostile_run = phase_hostile(url, work)
        t3 = time.perf_counter()
        timings = {"overlap_s": round(t1 - t0, 1), "sigkill_s": round(t2 - t1, 1), "hostile_s": round(t3 - t2, 1)}

        good = overlap_files + killed["files"]
        truth = runs.truth(good)
        hostile_expected = {e.location(folder): e.outcome for e in expectations}
        figures = measure(url, {p.resolve().as_uri() for p in good}, truth, hostile_expected)
        reads = sum(r["read"] for r in overlap_runs) + killed["rerun"]["read"] + hostile_run["read"]
        result = {
            "seed": seed,
            "database": mask_url(url),
            "articles_in": len(good) + len(expectations),
            "inputs_read_with_repeats": reads,
            **figures,
            "stored_when_killed": killed["stored_when_killed"],
            **timings,
        }
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            subprocess.run(["rm", "-rf", str(work)], check=False)
        admin.dispose()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>30}: {value}")
    bad = result["duplicates_stored"] or result["lost"] or result["check_violations"]
    return 1 if bad or not result["partition_equals_serial_truth"] else 0


if __name__ == "__main__":
    sys.exit(main())
