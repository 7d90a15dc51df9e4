"""Latency of `archive similar` (Archive.similar, the code path of the command) on a real corpus.

    python benchmarks/similar_latency.py                      # 20,000 archived articles, 200 queries
    python benchmarks/similar_latency.py --articles 5000 --queries 100 --db sqlite:////tmp/a.db

Builds a fresh archive (SQLite by default, or --db URL, which must be empty and migrated) from the
first N articles of the real corpora in ../shared/corpora (Chinese Sina and English Reuters,
interleaved), through `Archive.ingest_paths`. Then it queries with Q archived articles, each
changed as a content farm would (a watermark line after every paragraph), and prints the median
and 95th percentile wall time per query and how often the article itself (or its copy cluster)
came back first. The corpora are read, never copied; without them it says so and exits 0.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.api import Archive  # noqa: E402
from archive.config import load_settings  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
FILES = ("sina-2018-zh.jsonl.gz", "reuters-21578-en.jsonl.gz")
WATERMARK = "本文来自示例资讯网 www.example.com"


def records(limit: int) -> list[dict]:
    streams = [_read(CORPORA / name) for name in FILES]
    out = []
    for pair in itertools.zip_longest(*streams):
        out.extend(r for r in pair if r is not None)
        if len(out) >= limit:
            break
    return out[:limit]


def _read(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if len((r.get("text") or "").strip()) >= 200:
                yield {"url": f"urn:bench:{r['id']}", "title": r.get("title"), "text": r["text"],
                       "source": r.get("source") or path.name.split("-")[0], "published": r.get("date")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--db", help="an empty, migrated archive URL (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    missing = [name for name in FILES if not (CORPORA / name).exists()]
    if missing:
        print(f"skipped: the corpora {', '.join(missing)} are not in {CORPORA}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/archive.db"
        rows = records(args.articles)
        corpus = Path(tmp) / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        archive = Archive(load_settings({"ARCHIVE_DATABASE_URL": url}))
        archive.upgrade()
        t0 = time.perf_counter()
        summary = archive.ingest_paths([corpus])
        ingest_s = time.perf_counter() - t0
        step = max(len(rows) // args.queries, 1)
        chosen = rows[::step][: args.queries]
        wanted = {r["url"]: archive.find_article(r["url"]) for r in chosen}
        clusters = {a: archive.article(a)["copy_cluster"] for a in wanted.values() if a}
        times, first = [], 0
        for r in chosen:
            text = (r["title"] or "") + "\n\n" + "\n\n".join(p + "\n" + WATERMARK for p in r["text"].split("\n") if p.strip())
            t = time.perf_counter()
            result = archive.similar(text=text, top=10)
            times.append((time.perf_counter() - t) * 1000)
            top = result["results"][0] if result["results"] else None
            target = wanted.get(r["url"])
            if top and (top["id"] == target or top["copy_cluster"] == clusters.get(target)):
                first += 1
        archive.close()
    times.sort()
    figures = {
        "archived_articles": summary.new + summary.copies, "ingest_seconds": round(ingest_s, 1),
        "queries": len(times), "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1), "found_first": round(first / len(times), 3),
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
