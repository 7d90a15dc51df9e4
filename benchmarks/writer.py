"""The writer alone: prepared batches placed and committed into a copy of an existing archive.

End-to-end rates on a 2-core machine mix the one writer with the preparing workers, which share
its cores; a change to placement or storage shows more clearly when the batches are prepared
once beforehand and only the writer runs, in one process. This script prepares a JSONL(.gz/.zst)
input once (kept beside it as a pickle, reused while the input and the code's `Prepared` stay
the same), copies the archive, places the batches as an ingest run does (background
checkpoints, the run's collector thresholds, one transaction per batch), and prints the wall
rate, the writer's CPU per article and per stage (and its placing thread's alone, without the
read-ahead and checkpoint threads beside it), the bytes it read and wrote per article (on
Linux: pages missing from SQLite's cache, the log and its checkpoints; steadier than the rate on a
shared machine), and a digest of every placement (the same
digest from two versions of the code means they clustered the new articles identically).
The batches are prepared without the source boilerplate a run learns as it goes (the writer
still counts and learns it), so the counts can differ a little from an `archive ingest` of the
same input.

    python benchmarks/writer.py --archive bench-work/archive-100000.db --input extra-10k.jsonl.zst
    python benchmarks/writer.py --archive A.db --input X.jsonl.zst --repeat 3 --json
    python benchmarks/writer.py --archive A.db --input X.jsonl.zst --repeat 3 --sqlite-cache-mb 64 256
    python benchmarks/writer.py --archive A.db --input X.jsonl.zst --repeat 3 --read-ahead on off
    python benchmarks/writer.py --archive A.db --input X.jsonl.zst --memory 15   # what the writer keeps

`--memory N` traces the writer's Python allocations (numpy's included, SQLite's page cache not)
with tracemalloc while it places the input, and prints the N source lines holding the most of
what is still allocated at the end (its caches) and the traced peak; tracing makes the run
slower, so its rate is not comparable.

Only SQLite archives: the copy is made with SQLite's backup.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import pickle
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.db.engine import SQLITE_CACHE_MB  # noqa: E402


def prepared_batches(source: Path, batch_size: int, workers: int) -> list:
    """The input's prepared batches, from the pickle beside it when it is newer than the input."""
    from archive.config import load_settings
    from archive.pipeline import loaders
    from archive.pipeline.batch import PreparePool, batches, prepare_batch

    cache = source.with_name(f"{source.name}.prepared-{batch_size}.pickle")
    if cache.exists() and cache.stat().st_mtime >= source.stat().st_mtime:
        try:
            return pickle.loads(cache.read_bytes())
        except (pickle.UnpicklingError, AttributeError, TypeError, EOFError):
            pass  # made by other code: prepare again
    settings = load_settings({})
    chunks = batches(loaders.load([source]), batch_size)
    if workers > 0:
        with PreparePool(settings, workers) as pool:
            out = list(pool.map(chunks))
    else:
        out = [prepare_batch(chunk, settings) for chunk in chunks]
    cache.write_bytes(pickle.dumps(out, protocol=5))
    return out


def place(archive_path: Path, prepared: list, batch_size: int, sqlite_cache_mb: int = SQLITE_CACHE_MB,
          index_recent_articles: int | None = None, read_ahead: bool = True, memory: int = 0) -> dict:
    """Place `prepared` into a copy of `archive_path`; the figures of that one run."""
    from archive.api import Archive
    from archive.config import load_settings
    from archive.db.checkpoint import background_checkpoints
    from archive.pipeline import collection

    with tempfile.TemporaryDirectory(prefix="writer-bench-") as tmp:
        db = Path(tmp) / "archive.db"
        with sqlite3.connect(archive_path) as source, sqlite3.connect(db) as copy:
            source.backup(copy)  # a consistent copy, whatever the source's write-ahead log holds
        settings = load_settings({"ARCHIVE_DATABASE_URL": f"sqlite:///{db}"})
        settings = dataclasses.replace(settings, batch_size=batch_size, sqlite_cache_mb=sqlite_cache_mb,
                                       index_recent_articles=index_recent_articles or settings.index_recent_articles)
        with Archive(settings) as archive:
            archive.upgrade()
            first_new = _max_article_id(db) + 1
            ingestor = archive.ingestor
            if memory:
                tracemalloc.start()
            io, wall, cpu, own = _io_bytes(), time.perf_counter(), time.process_time(), time.thread_time()
            with background_checkpoints(archive.factory.kw.get("bind")), collection.fewer_collections():
                summary = ingestor.start_run("ingest", {"benchmark": "writer"})
                ingestor.store_all(prepared, summary, read_ahead=read_ahead)
                ingestor.finish_run(summary)
            wall, cpu, own = time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - own
            io = {k: v - io[k] for k, v in _io_bytes().items()} if io else {}
            kept = _kept_memory(memory) if memory else None  # after the clocks: the snapshot is slow
        n = max(summary.read, 1)
        return {
            "articles": summary.read, "new": summary.new, "copies": summary.copies,
            "rate": summary.read / wall, "writer_cpu_ms": 1000 * cpu / n, "writer_thread_cpu_ms": 1000 * own / n,
            "stages_ms": {k: 1000 * summary.timings.get(k, 0.0) / n
                          for k in ("candidates", "place", "write", "index move", "phrase fold")},
            "placements": placement_digest(db, first_new),
            "read_kb": io["rchar"] / 1024 / n if io else None, "written_kb": io["wchar"] / 1024 / n if io else None,
            "memory": kept,
        }


def _kept_memory(top: int) -> dict:
    """What the traced allocations hold now (the writer's caches after a run), by source line, and
    their peak; stops tracing."""
    snapshot = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    here = str(ROOT)
    lines = [{"where": f"{stat.traceback[0].filename.removeprefix(here + '/')}:{stat.traceback[0].lineno}",
              "mb": stat.size / 2**20, "blocks": stat.count}
             for stat in snapshot.statistics("lineno")[:top]]
    return {"current_mb": current / 2**20, "peak_mb": peak / 2**20, "top": lines}


def _io_bytes() -> dict[str, int]:
    """Bytes this process has read and written through system calls (Linux; {} elsewhere).

    SQLite reads every page missing from its cache and writes every page it logs or checkpoints
    through such calls, so these figures follow the pages a change saves, whatever else the
    machine runs (the rate and CPU time do not).
    """
    try:
        fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    except OSError:
        return {}
    return {k: int(fields[k]) for k in ("rchar", "wchar")}


def _max_article_id(db: Path) -> int:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]


def placement_digest(db: Path, first_id: int) -> str:
    """A digest of where the articles from `first_id` on were placed: by URL, each membership's
    kind and its cluster's representative URL (ids differ between runs, URLs do not)."""
    with sqlite3.connect(db) as c:
        rows = c.execute(
            "SELECT a.url, m.kind, r.url FROM articles a JOIN cluster_members m ON m.article_id = a.id "
            "JOIN clusters k ON k.id = m.cluster_id LEFT JOIN articles r ON r.id = k.representative_id "
            "WHERE a.id >= ? ORDER BY a.id, m.kind", (first_id,)).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, required=True, help="an SQLite archive file (copied, never changed)")
    parser.add_argument("--input", type=Path, required=True, help="JSONL, JSONL.gz or JSONL.zst records to place")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="processes preparing the input, the first time")
    parser.add_argument("--repeat", type=int, default=1, help="runs, each into a fresh copy (medians printed)")
    parser.add_argument("--sqlite-cache-mb", type=int, nargs="+", default=[SQLITE_CACHE_MB],
                        help="SQLite's page cache in MB; several values alternate run by run (an A/B)")
    parser.add_argument("--index-recent-articles", type=int, nargs="+", default=[None],
                        help="articles the band index's recent tier holds before a move (default: the "
                             "setting's); several values alternate run by run")
    parser.add_argument("--read-ahead", choices=("on", "off"), nargs="+", default=["on"],
                        help="read the next batch's postings in a thread while one is placed, as an "
                             "ingest run does (on), or not; both alternate run by run")
    parser.add_argument("--memory", type=int, default=0, metavar="N",
                        help="trace the writer's allocations and print the N lines holding the most at the end")
    parser.add_argument("--json", action="store_true", help="the runs as JSON")
    opts = parser.parse_args(argv)
    for path in (opts.archive, opts.input):
        if not path.is_file():
            parser.error(f"{path}: no such file")
    prepared = prepared_batches(opts.input, opts.batch_size, opts.workers)
    variants = [{"sqlite_cache_mb": cache_mb, "index_recent_articles": recent, "read_ahead": ahead == "on"}
                for cache_mb in opts.sqlite_cache_mb for recent in opts.index_recent_articles
                for ahead in opts.read_ahead]
    runs = []
    for _ in range(max(1, opts.repeat)):
        for variant in variants:
            runs.append({**place(opts.archive, prepared, opts.batch_size, memory=opts.memory, **variant), **variant})
    if opts.json:
        print(json.dumps(runs, indent=2))
        return 0
    for r in runs:
        stages = "  ".join(f"{k} {v:.2f}" for k, v in r["stages_ms"].items())
        print(f"{r['articles']:,} articles ({r['new']:,} new, {r['copies']:,} copies), {_label(r)}: "
              f"{r['rate']:.0f}/s, writer CPU {r['writer_cpu_ms']:.2f} ms per article ({stages}; "
              f"its placing thread alone {r['writer_thread_cpu_ms']:.2f}); "
              + (f"read {r['read_kb']:.0f} KB, written {r['written_kb']:.0f} KB per article; "
                 if r["read_kb"] is not None else "")
              + f"placements {r['placements']}")
        if r["memory"]:
            print(f"  traced: {r['memory']['current_mb']:.1f} MB held at the end, {r['memory']['peak_mb']:.1f} MB at peak")
            for line in r["memory"]["top"]:
                print(f"  {line['mb']:8.1f} MB {line['blocks']:9,} blocks  {line['where']}")
    for variant in variants:
        mine = [r for r in runs if all(r[k] == v for k, v in variant.items())]
        if len(mine) > 1:
            print(f"median, {_label(variant)}: {statistics.median(r['rate'] for r in mine):.0f}/s, writer CPU "
                  f"{statistics.median(r['writer_cpu_ms'] for r in mine):.2f} ms per article (placing thread "
                  f"{statistics.median(r['writer_thread_cpu_ms'] for r in mine):.2f})"
                  + (f", read {statistics.median(r['read_kb'] for r in mine):.0f} KB, written "
                     f"{statistics.median(r['written_kb'] for r in mine):.0f} KB per article"
                     if mine[0]["read_kb"] is not None else ""))
    return 0


def _label(variant: dict) -> str:
    recent = variant["index_recent_articles"]
    return (f"cache {variant['sqlite_cache_mb']} MB" + (f", recent tier {recent:,}" if recent else "")
            + ("" if variant["read_ahead"] else ", no read-ahead"))


if __name__ == "__main__":
    sys.exit(main())
