"""Which tables and indexes one commit of articles writes to: pages changed, by B-tree.

What the writer writes per article (the log, then the checkpoint) is the pages its commits
dirty. This script copies an SQLite archive, checkpoints it, hashes every page, places the
input into the copy as one commit (prepared in this process), checkpoints again, and counts the
pages that changed or were added under each table and index (SQLite's `dbstat`), per article;
then the same for the end of the run, where the recent counts of source phrases are folded
(`archive.db.phrases`; a long run folds once per 200,000 of them, not once per commit). Run it on
an archive of the size that matters, with an input of one commit's size.

    python benchmarks/dirty_pages.py --archive bench-work/archive-225000.db --input next-500.jsonl.zst
    python benchmarks/dirty_pages.py --archive A.db --input next-2000.jsonl.zst --commit-size 2000

Only SQLite archives (the copy is made with SQLite's backup); needs an SQLite built with `dbstat` (Python's is).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def page_map(db: Path) -> tuple[dict[int, str], dict[int, bytes], int]:
    """(page -> the table or index it belongs to, page -> digest of its bytes, page size), after a
    full checkpoint so the file holds every committed page."""
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        owners = dict(connection.execute("SELECT pageno, name FROM dbstat"))
    digests = {}
    with open(db, "rb") as f:
        number = 1
        while page := f.read(page_size):
            digests[number] = hashlib.blake2b(page, digest_size=8).digest()
            number += 1
    return owners, digests, page_size


def changed_pages(before: tuple, after: tuple) -> tuple[collections.Counter, collections.Counter]:
    """(pages changed, pages added) per table or index, from two `page_map`s."""
    owners_before, digests_before, _ = before
    owners_after, digests_after, _ = after
    changed, added = collections.Counter(), collections.Counter()
    for page, digest in digests_after.items():
        owner = owners_after.get(page) or owners_before.get(page) or "(free list)"
        if page not in digests_before:
            added[owner] += 1
        elif digests_before[page] != digest:
            changed[owner] += 1
    return changed, added


def report(title: str, before: tuple, after: tuple, placed: int, top: int) -> None:
    changed, added = changed_pages(before, after)
    total = sum(changed.values()) + sum(added.values())
    page_size = after[2]
    print(f"{title}: {total:,} pages written, {total / max(placed, 1):.1f} per article "
          f"({total * page_size / 1024 / max(placed, 1):,.0f} KB)")
    print(f"{'table or index':42} {'changed':>8} {'added':>8} {'per article':>12}")
    for owner, pages in (changed + added).most_common(top):
        print(f"{owner:42} {changed[owner]:8,} {added[owner]:8,} {pages / max(placed, 1):12.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, required=True, help="an SQLite archive file (copied, never changed)")
    parser.add_argument("--input", type=Path, required=True, help="JSONL, JSONL.gz or JSONL.zst records to place")
    parser.add_argument("--commit-size", type=int, default=0, help="articles per commit (default: the whole input)")
    parser.add_argument("--top", type=int, default=25, help="tables and indexes listed")
    opts = parser.parse_args(argv)

    from archive.api import Archive
    from archive.config import load_settings
    from archive.pipeline.batch import batches, joined, prepare_batch
    from archive.pipeline.loaders import load

    with tempfile.TemporaryDirectory(dir=opts.archive.parent) as work:
        copy = Path(work) / "archive.db"
        source, target = sqlite3.connect(opts.archive), sqlite3.connect(copy)
        try:
            source.backup(target)  # a consistent copy, as benchmarks/writer.py makes, even while another process writes
        finally:
            source.close()
            target.close()
        size = opts.commit_size or 1_000_000_000
        settings = dataclasses.replace(load_settings({"ARCHIVE_DATABASE_URL": f"sqlite:///{copy}"}),
                                       batch_size=size, commit_size=size)
        with Archive(settings) as archive:
            archive.upgrade()  # an archive of older code: its migrations are not counted below
            before = page_map(copy)
            # The run's steps one by one (as `Ingestor.run` takes them, in this process), so the
            # commits and the end of the run (where the recent phrase counts are folded) are
            # counted apart: a real run folds once per `archive.db.phrases.RECENT_ROWS` rows.
            ingestor = archive.ingestor
            summary = ingestor.start_run("ingest", {"benchmark": "dirty pages"})
            chunks = batches(load([opts.input]), size, summary.timings)
            prepared = (prepare_batch(chunk, settings, ingestor.boilerplate.snapshot()) for chunk in chunks)
            for batch in joined(prepared, size):
                ingestor.store(batch, summary)
            committed = page_map(copy)
            ingestor.finish_run(summary)
        after = page_map(copy)
    placed = summary.new + summary.copies
    report(f"{placed:,} articles placed ({summary.new:,} new, {summary.copies:,} copies) in commits of "
           f"{opts.commit_size or 'the whole input'}", before, committed, placed, opts.top)
    report("then the end of the run (folding its source phrase counts)", committed, after, placed, opts.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
