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

No source boilerplate is learned here (an ingest run learns it as it goes), so the extract stage
does less than in a run.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", type=Path, required=True, help="JSONL(.gz/.zst) records")
    parser.add_argument("--records", type=int, default=5000, help="records to prepare after the warm-up batch")
    parser.add_argument("--warm-up", type=int, default=500, help="records prepared first and not timed")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="instead of timing, print cProfile's N costliest functions of one pass")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from archive.config import load_settings
    from archive.pipeline import loaders
    from archive.pipeline.batch import prepare_batch

    settings = load_settings({})
    items = list(itertools.islice(loaders.load([args.input]), args.warm_up + args.records))
    prepare_batch(items[:args.warm_up], settings)
    rest = items[args.warm_up:]
    chunks = [rest[i:i + args.batch_size] for i in range(0, len(rest), args.batch_size)]
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [prepare_batch(c, settings) for c in chunks])
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
        return 0
    passes = []
    for _ in range(args.repeat):
        cpu = time.process_time()
        out = [prepare_batch(c, settings) for c in chunks]
        cpu = time.process_time() - cpu
        stages = {k: sum(b.timings.get(k, 0.0) for b in out) for k in ("extract", "fingerprint")}
        passes.append({"total": cpu, **stages})
    n = max(len(rest), 1)
    result = {
        "records": len(rest),
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
