"""The preparing side alone: extract, clean and fingerprint a JSONL input in one process.

An ingest run's rate mixes the workers with the writer that shares their two cores; a change to
extraction, cleaning or fingerprinting shows more clearly here. The input is read once, a first
batch warms the caches (word tables, stemmer, segmenter), and the rest are prepared `--repeat`
times as the workers prepare them; the script prints the CPU milliseconds per article of each
stage (the median of the repeats) and a digest of everything the writer receives (extracted
lines, fingerprints, edge phrases): the same digest from two versions of the code means they
prepared the articles identically.

    python benchmarks/prepare.py --input corpus-110k.jsonl.zst --records 5000
    python benchmarks/prepare.py --input X.jsonl.zst --records 5000 --repeat 5 --json
    python benchmarks/prepare.py --input X.jsonl.zst --records 2000 --profile 30

With `--learned-from ARCHIVE.db` each source's boilerplate already learned in that archive is
stripped, as a run's workers strip it (without it the extract stage does less than in a run).

    python benchmarks/prepare.py --input more.jsonl.zst --learned-from bench-work/archive-100000.db
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import itertools
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

def prepared_digest(batches: list) -> str:
    """A digest of what the writer would receive: rejections by location and reason, prepared
    articles by their lines, fingerprint and edge phrases."""
    from archive.pipeline.batch import Prepared

    h = hashlib.sha256()
    for batch in batches:
        for item in batch.items:
            if not isinstance(item, Prepared):
                h.update(repr((item.location, item.reason)).encode())
                continue
            fp = item.fp
            h.update(repr((item.extracted.title, item.extracted.lines, item.source, sorted(item.edge_phrases.items()),
                           fp.text_hash, fp.language, sorted(fp.event_terms.items()), fp.copy_keys, fp.event_keys,
                           fp.stray_body)).encode())
            h.update(fp.signature.tobytes())
            h.update(fp.shingles.tobytes())
    return h.hexdigest()[:12]


def _learned(archive: Path, settings) -> dict[str, set[int]]:
    """Each source's learned boilerplate keys in an existing SQLite archive (read only)."""
    from sqlalchemy.orm import Session

    from archive.db import phrases
    from archive.db.engine import make_engine

    if not archive.is_file():
        raise SystemExit(f"{archive}: no such archive")
    engine = make_engine(f"sqlite:///file:{archive}?mode=ro&uri=true")
    try:
        with Session(engine) as session:
            learned = phrases.learned(session, None, settings.matching.source_boilerplate_articles)
    finally:
        engine.dispose()
    return {name: keys for name, keys in learned.items() if keys}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, required=True, help="JSONL(.gz/.zst) records")
    parser.add_argument("--records", type=int, default=5000, help="records to prepare after the warm-up batch")
    parser.add_argument("--warm-up", type=int, default=500, help="records prepared first and not timed")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="instead of timing, print cProfile's N costliest functions of one pass")
    parser.add_argument("--profile-sort", choices=("tottime", "cumulative"), default="tottime",
                        help="order of the profile: time in a function itself, or with what it calls")
    parser.add_argument("--learned-from", type=Path, metavar="ARCHIVE.db",
                        help="strip the source boilerplate this SQLite archive has learned")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from archive.config import load_settings
    from archive.pipeline import loaders
    from archive.pipeline.batch import prepare_batch

    settings = load_settings({})
    learned = _learned(args.learned_from, settings) if args.learned_from else None
    items = list(itertools.islice(loaders.load([args.input]), args.warm_up + args.records))
    prepare_batch(items[:args.warm_up], settings, learned)
    rest = items[args.warm_up:]
    chunks = [rest[i:i + args.batch_size] for i in range(0, len(rest), args.batch_size)]
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [prepare_batch(c, settings, learned) for c in chunks])
        pstats.Stats(profile).sort_stats(args.profile_sort).print_stats(args.profile)
        return 0
    passes = []
    for _ in range(args.repeat):
        cpu = time.process_time()
        out = [prepare_batch(c, settings, learned) for c in chunks]
        cpu = time.process_time() - cpu
        stages = {k: sum(b.timings.get(k, 0.0) for b in out) for k in ("extract", "fingerprint")}
        passes.append({"total": cpu, **stages})
    n = max(len(rest), 1)
    result = {
        "records": len(rest), "learned_sources": len(learned or {}),
        "ms_per_article": {k: round(1000 * statistics.median(p[k] for p in passes) / n, 3) for k in passes[0]},
        "passes_ms": [round(1000 * p["total"] / n, 3) for p in passes],
        "digest": prepared_digest(out),
    }
    if args.json:
        print(json.dumps(result))
    else:
        ms = result["ms_per_article"]
        print(f"{result['records']:,} records, CPU ms per article (median of {args.repeat}): "
              f"{ms['total']:.3f} (extract {ms['extract']:.3f}  fingerprint {ms['fingerprint']:.3f}); "
              f"passes {', '.join(f'{p:.3f}' for p in result['passes_ms'])}; digest {result['digest']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
