"""Ingest throughput: a generated corpus into a fresh archive, beside the plain datasketch script.

For each size (10,000 and 100,000 articles; 1,000,000 with --large) it generates a corpus
(benchmarks/corpus.py: real texts from ../shared/corpora in a steady mix with recombined ones, 10%
reprints), ingests it as JSONL.zst into a fresh SQLite archive and a fresh PostgreSQL database
(when one is reachable), each in a child process watched for its memory, and prints:

- articles/s end to end, and the rate over the first and the last 10,000 articles of the run
  and over its last cycle of the band index's recent tier (`index_recent_articles`, 50,000 by
  default, one move of the tier included: the steady rate at that size, which the flatness
  target is judged on; the per-article cost as the archive grows);
- the CPU time per article of each stage: read, extract and clean, fingerprint (in the workers,
  summed over them), candidates, verify and place, write (the database server's own time is not
  in these: on PostgreSQL it shows in the wall-clock rate);
- peak RSS of the ingest's whole process tree, and the archive's size on disk;
- `archive similar` latency (median and p95 over 200 queries) against the archive built;
- the plain datasketch script (benchmarks/plain_datasketch.py) on the same corpus, and the ratio
  of the rates, and of the CPU seconds per article (all processes: a figure that holds on a
  machine other work is slowing down);
- the HTML path on its own (`--warc N`, default 5,000): N corpus records as news pages in a
  WARC.gz, ingested through trafilatura, with the extraction CPU per article and each worker's
  CPU seconds (extraction is the expensive stage: every worker should be busy).

    python benchmarks/ingest.py                  # 10k and 100k, SQLite and PostgreSQL, baseline
    python benchmarks/ingest.py --large          # and 1M (our ingest only: the baseline would take days)
    python benchmarks/ingest.py --sizes 10000 --no-postgres --no-plain --warc 0
    python benchmarks/ingest.py --similar sqlite:///bench-work/archive.db   # only `similar`, an existing archive
    python benchmarks/ingest.py --summary bench-work/results.json   # the targets table of a saved run

Figures go to stdout and to WORKDIR/results.json; the run ends with the issue's targets beside
what it measured (a target the run did not reach the size for says so). The corpus needs
../shared/corpora: without it the benchmark says so and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.db.engine import SQLITE_CACHE_MB  # noqa: E402
from archive.config import COMMIT_SIZE  # noqa: E402
from benchmarks import corpus as corpus_mod  # noqa: E402

PG_ADMIN_URL = os.environ.get("ARCHIVE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WINDOW = 10_000
QUERIES = 200


# -- the child: one ingest run, measured from inside ---------------------------------------------

def child_ingest(url: str, corpus: Path, workers: int, batch_size: int, commit_size: int,
                 sqlite_cache_mb: int) -> dict:
    import dataclasses

    from archive.api import Archive
    from archive.config import load_settings

    settings = dataclasses.replace(load_settings({"ARCHIVE_DATABASE_URL": url}), batch_size=batch_size,
                                   commit_size=commit_size, sqlite_cache_mb=sqlite_cache_mb)
    archive = Archive(settings)
    archive.upgrade()
    marks: list[tuple[int, float, float, int, float]] = [(0, time.perf_counter(), _tree_cpu(), 0, 0.0)]

    worker_cpu: dict[int, float] = {}  # pid -> CPU seconds last seen: does every worker work?

    def progress(summary, _item) -> None:
        if summary.read % 500 == 0:
            worker_cpu.update(_workers_cpu())
        if summary.read % WINDOW == 0:
            marks.append((summary.read, time.perf_counter(), _tree_cpu(), summary.copies, summary.waited))
            (_, t0, c0, k0, w0), (_, t1, c1, k1, w1) = marks[-2:]
            print(f"  ... {summary.read:,} read, {WINDOW / (t1 - t0):.0f}/s and {1000 * (c1 - c0) / WINDOW:.2f} CPU ms "
                  f"per article over the last {WINDOW:,}, {100 * (k1 - k0) / WINDOW:.0f}% of them copies, the writer "
                  f"waiting for the workers {100 * (w1 - w0) / (t1 - t0):.0f}% of the time", file=sys.stderr, flush=True)

    start = time.perf_counter()
    summary = archive.ingest_paths([corpus], progress=progress, workers=workers)
    seconds = time.perf_counter() - start
    marks.append((summary.read, time.perf_counter(), _tree_cpu(), summary.copies, summary.waited))
    # (articles read at the window's end, articles/s, CPU ms per article of this process and its
    # workers, share of the window's articles placed as copies: is the workload the same throughout?,
    # share of the window's wall time the writer waited for prepared batches: who set the rate?)
    windows = [(b[0], (b[0] - a[0]) / (b[1] - a[1]), 1000 * (b[2] - a[2]) / (b[0] - a[0]), (b[3] - a[3]) / (b[0] - a[0]),
                (b[4] - a[4]) / (b[1] - a[1]))
               for a, b in zip(marks, marks[1:]) if b[0] > a[0]]
    result = {
        "read": summary.read, "new": summary.new, "copies": summary.copies, "duplicates": summary.duplicates,
        "rejected": summary.rejected, "seconds": seconds, "rate": summary.read / seconds,
        "first_window_rate": windows[0][1] if windows else None,
        "last_window_rate": windows[-1][1] if windows else None,
        "first_window_cpu_ms": windows[0][2] if windows else None,
        "last_window_cpu_ms": windows[-1][2] if windows else None,
        "first_window_copies": windows[0][3] if windows else None,
        "last_window_copies": windows[-1][3] if windows else None,
        "first_window_waited": windows[0][4] if windows else None,
        "last_window_waited": windows[-1][4] if windows else None,
        "waited": summary.waited,
        "windows": windows, "timings": summary.timings,
        "last_cycle": last_cycle(windows, settings.index_recent_articles),
    }
    result["workers_cpu_seconds"] = sorted(worker_cpu.values(), reverse=True)
    is_warc = corpus.name.endswith((".warc", ".warc.gz"))
    result["similar"] = {"skipped": "WARC run"} if is_warc else similar_latency(archive, corpus)
    archive.close()
    return result


def _workers_cpu() -> dict[int, float]:
    """pid -> CPU seconds of each live worker process of this one."""
    import multiprocessing

    out = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for child in multiprocessing.active_children():
        try:
            with open(f"/proc/{child.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[child.pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return out


def _tree_cpu() -> float:
    """CPU seconds of this process and its live worker processes: the cost of a window of the
    run, which, unlike its rate, other work on the machine does not change much."""
    return time.process_time() + sum(_workers_cpu().values())


def similar_latency(archive, corpus: Path) -> dict:
    """Median and p95 of `archive similar` over QUERIES records drawn from the corpus (first paragraph dropped)."""
    if not hasattr(archive, "similar"):
        return {"skipped": "this version of the archive has no `similar` lookup"}
    return _time_queries(archive, [_query(r["title"], r["text"]) for r in _sample(corpus, QUERIES)])


def similar_against(url: str) -> dict:
    """`similar_latency` against an existing archive, the queries drawn from the articles it holds."""
    from sqlalchemy import func, select

    from archive.api import Archive
    from archive.config import load_settings
    from archive.db.models import Article

    with Archive(load_settings({"ARCHIVE_DATABASE_URL": url})) as archive:
        with archive.session() as session:
            articles = session.scalar(select(func.count()).select_from(Article))
            rows = session.execute(select(Article.title, Article.clean_text)
                                   .order_by(func.random()).limit(QUERIES)).all()
        result = _time_queries(archive, [_query(title or "", text or "") for title, text in rows])
    return {"articles": articles, **result}


def _query(title: str, text: str) -> str:
    """A text as a reader would paste it: the title, the body without its first paragraph (corpus
    records separate paragraphs with blank lines, archived clean texts with single newlines)."""
    separator = "\n\n" if "\n\n" in text else "\n"
    paragraphs = text.split(separator)
    return title + "\n\n" + "\n\n".join(paragraphs[1:] if len(paragraphs) > 2 else paragraphs)


def _time_queries(archive, queries: list[str]) -> dict:
    from archive.errors import ArchiveError

    times, refused = [], 0
    for i, text in enumerate([queries[0]] + queries):  # the first one warms caches and is not counted
        t0 = time.perf_counter()
        try:
            archive.similar(text=text)
        except ArchiveError:
            refused += 1
            continue
        if i:
            times.append(time.perf_counter() - t0)
    times.sort()
    return {"queries": len(times), "refused": refused, "median_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))]}


def _sample(corpus: Path, n: int):
    from archive.pipeline.loaders import load

    rng = random.Random(5)
    items = []
    for i, item in enumerate(load([corpus])):
        fields = getattr(item, "fields", None)
        if not fields:
            continue
        if len(items) < n:
            items.append(fields)
        else:
            j = rng.randrange(i + 1)
            if j < n:
                items[j] = fields
    return items


# -- the parent: corpora, databases, children, report ----------------------------------------------

class TreeMemory(threading.Thread):
    """Polls the summed RSS of a process and its descendants; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, False

    def run(self) -> None:
        while not self.done:
            self.peak = max(self.peak, _tree_rss(self.pid))
            time.sleep(0.25)


def _tree_rss(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        parents[int(entry)] = int(fields.get("PPid", "0").strip())
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(args: list[str]) -> tuple[dict, int]:
    """Run this script as a child (its workers are its children); its result, peak tree RSS and CPU seconds."""
    cpu = _children_cpu()
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    watch = TreeMemory(proc.pid)
    watch.start()
    out, _ = proc.communicate()
    watch.done = True
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed with status {proc.returncode}")
    result = json.loads(out.strip().splitlines()[-1])
    result["cpu_seconds"] = _children_cpu() - cpu
    return result, watch.peak


def make_corpus(workdir: Path, size: int) -> Path:
    path = workdir / f"corpus-{size}.jsonl.zst"
    if not path.exists():
        tmp = path.with_suffix(".tmp.zst")
        corpus_mod.write(tmp, corpus_mod.generate(size))
        tmp.rename(path)
    return path


def pg_database() -> str | None:
    from sqlalchemy import create_engine, text

    name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # no server: the PostgreSQL column says why
        print(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def pg_size_and_drop(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    engine.dispose()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
    return int(size)


def sqlite_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def child_args(url: str, path: Path, opts) -> list[str]:
    return ["--child", url, str(path), str(opts.workers), str(opts.batch_size), str(opts.commit_size),
            str(opts.sqlite_cache_mb)]


def bench_warc(workdir: Path, size: int, opts) -> dict:
    """The HTML path: `size` corpus records as pages in a WARC.gz, ingested with the workers."""
    warc = workdir / f"corpus-{size}.warc.gz"
    if not warc.exists():
        tmp = workdir / f"corpus-{size}.tmp.warc.gz"
        corpus_mod.write_warc(tmp, corpus_mod.generate(size))
        tmp.rename(warc)
    db = workdir / f"warc-{size}-{uuid.uuid4().hex[:6]}.db"
    result, peak = run_child(child_args(f"sqlite:///{db}", warc, opts))
    for p in db.parent.glob(db.name + "*"):
        p.unlink()
    n = result["read"]
    busy = ", ".join(f"{s:.1f} s" for s in result["workers_cpu_seconds"])
    print(f"{size:,} HTML pages from WARC.gz, SQLite: {result['rate']:.0f} articles/s end to end "
          f"({1000 * result['cpu_seconds'] / n:.1f} CPU ms per article, all processes; new {result['new']:,}, "
          f"copies {result['copies']:,}, rejected {result['rejected']:,}); extract and clean "
          f"{1000 * result['timings'].get('extract', 0.0) / n:.2f} CPU ms per article, in {opts.workers} workers "
          f"(CPU each: {busy}); peak RSS {peak / 2**20:.0f} MiB", flush=True)
    return {**result, "size": size, "peak_rss": peak}


def bench_size(workdir: Path, size: int, opts) -> dict:
    corpus = make_corpus(workdir, size)
    out: dict = {"size": size, "corpus": str(corpus)}
    db = workdir / f"archive-{size}-{uuid.uuid4().hex[:6]}.db"
    result, peak = run_child(child_args(f"sqlite:///{db}", corpus, opts))
    out["sqlite"] = {**result, "peak_rss": peak, "disk": sqlite_size(db)}
    if not opts.keep:
        for p in db.parent.glob(db.name + "*"):
            p.unlink()
    report_run(f"{size:,} SQLite", out["sqlite"])
    if opts.postgres and size <= opts.postgres_max:
        url = pg_database()
        if url:
            result, peak = run_child(child_args(url, corpus, opts))
            out["postgresql"] = {**result, "peak_rss": peak, "disk": pg_size_and_drop(url)}
            report_run(f"{size:,} PostgreSQL", out["postgresql"])
    if opts.plain and size <= opts.plain_max:
        plain_db = workdir / f"plain-{size}-{uuid.uuid4().hex[:6]}.db"
        cpu = _children_cpu()
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "plain_datasketch.py"), str(corpus),
                               f"sqlite:///{plain_db}"], capture_output=True, text=True, check=True)
        out["plain"] = json.loads(proc.stdout.strip().splitlines()[-1])
        out["plain"]["cpu_seconds"] = _children_cpu() - cpu
        plain_db.unlink(missing_ok=True)
        ours, plain = out["sqlite"], out["plain"]
        out["ratio"] = ours["rate"] / plain["rate"]
        out["ratio_cpu"] = (plain["cpu_seconds"] / plain["articles"]) / (ours["cpu_seconds"] / ours["read"])
        print(f"  plain datasketch script: {plain['rate']:.0f} articles/s ({plain['seconds']:.0f} s, "
              f"{1000 * plain['cpu_seconds'] / plain['articles']:.1f} CPU ms per article); archive ingest on SQLite "
              f"runs at {out['ratio']:.2f}x its rate and {out['ratio_cpu']:.2f}x its articles per CPU-second", flush=True)
    return out


def last_cycle(windows: list[tuple], cycle: int) -> dict | None:
    """Articles, rate and CPU ms per article over the run's last whole windows holding at least
    `cycle` articles (one cycle of the band index's recent tier: `index_recent_articles` articles
    placed, one move of the tier into the main index among them), or None when the run after its
    first window is shorter. The last window alone holds a move or not depending on where the
    run ends; a whole cycle holds one."""
    articles = seconds = cpu = 0.0
    for i in range(len(windows) - 1, 0, -1):
        end, rate, cpu_ms = windows[i][:3]
        n = end - windows[i - 1][0]
        articles, seconds, cpu = articles + n, seconds + n / rate, cpu + cpu_ms * n / 1000
        if articles >= cycle:
            return {"articles": int(articles), "rate": articles / seconds, "cpu_ms": 1000 * cpu / articles}
    return None


def _cost_ratio(r: dict) -> str:
    first, last = r.get("first_window_cpu_ms"), r.get("last_window_cpu_ms")
    return f"{last / first:.2f}" if first and last else "n/a"


def _share(r: dict, which: str) -> str:
    share = r.get(f"{which}_window_copies")
    return "n/a" if share is None else f"{100 * share:.0f}%"


def _cycle_line(r: dict) -> str:
    cycle, first = r.get("last_cycle"), r.get("first_window_rate")
    if not cycle or not first:
        return ""
    return (f"  last {cycle['articles']:,} (one cycle of the band index's recent tier, its move included): "
            f"{cycle['rate']:.0f}/s, {cycle['cpu_ms']:.2f} CPU ms per article; the first {WINDOW:,} "
            f"{first / cycle['rate']:.2f}x as fast\n")


def _waited(r: dict) -> str:
    """The share of the run, and of its first and last windows, the writer waited for prepared batches."""
    if r.get("waited") is None:  # a run saved before it was measured
        return "n/a"
    first, last = r.get("first_window_waited"), r.get("last_window_waited")
    windows = (f" (first {WINDOW:,}: {100 * first:.0f}%, last {WINDOW:,}: {100 * last:.0f}%)"
               if first is not None and last is not None else "")
    return f"{100 * r['waited'] / r['seconds']:.0f}% of the run{windows}"


def report_run(label: str, r: dict) -> None:
    n = r["read"]
    stages = "  ".join(f"{k} {1000 * r['timings'].get(k, 0.0) / n:.2f}" for k in
                       ("read", "extract", "fingerprint", "candidates", "place", "write", "index move", "phrase fold"))
    sim = r["similar"]
    similar = (f"similar median {sim['median_ms']:.1f} ms, p95 {sim['p95_ms']:.1f} ms" if "median_ms" in sim
               else f"similar: {sim.get('skipped')}")
    print(f"{label}: {r['rate']:.0f} articles/s end to end ({n:,} in {r['seconds']:.0f} s, "
          f"{1000 * r['cpu_seconds'] / n:.1f} CPU ms per article, all processes; "
          f"new {r['new']:,}, copies {r['copies']:,}, duplicates {r['duplicates']:,}, rejected {r['rejected']:,})\n"
          f"  first {WINDOW:,}: {r['first_window_rate'] or 0:.0f}/s, {r.get('first_window_cpu_ms') or 0:.2f} CPU ms "
          f"per article; last {WINDOW:,}: {r['last_window_rate'] or 0:.0f}/s, {r.get('last_window_cpu_ms') or 0:.2f} "
          f"CPU ms per article (ratio of costs {_cost_ratio(r)}); copies {_share(r, 'first')} of the first, "
          f"{_share(r, 'last')} of the last\n"
          f"{_cycle_line(r)}"
          f"  CPU ms per article and stage: {stages}\n"
          f"  the writer waited for the workers' batches {_waited(r)}\n"
          f"  peak RSS {r['peak_rss'] / 2**20:.0f} MiB, on disk {r['disk'] / 2**20:.0f} MiB, {similar}", flush=True)


# -- the targets, against what one run measured ----------------------------------------------------

TARGET_RATIO = 20.0  # times the plain script's rate, at 100,000 articles
TARGET_FLATNESS = 1.3  # rate over the first 10,000 / rate over the last cycle (or 10,000) of the 1,000,000 run
TARGET_SIMILAR_MS = 50.0
TARGET_RSS = 2**30
TARGET_SIZE = 1_000_000


def target_rows(results: list[dict]) -> list[tuple[str, str, bool | None]]:
    """(target, what the run measured, met: True, False, or None when the run was too small)."""
    runs = {r["size"]: r for r in results if "size" in r and "sqlite" in r}
    rows: list[tuple[str, str, bool | None]] = []
    with_plain = [r for r in runs.values() if "ratio" in r]
    if with_plain:
        r = min(with_plain, key=lambda r: abs(r["size"] - 100_000))
        rows.append((f"rate >= {TARGET_RATIO:.0f}x the plain script's (100,000)",
                     f"{r['ratio']:.2f}x at {r['size']:,} ({r['sqlite']['rate']:.0f}/s against {r['plain']['rate']:.0f}/s)",
                     r["ratio"] >= TARGET_RATIO if r["size"] >= 100_000 else None))
    if runs:
        largest = runs[max(runs)]
        size, ours = largest["size"], largest["sqlite"]
        reached = size >= TARGET_SIZE or None
        first, last = ours.get("first_window_rate"), ours.get("last_window_rate")
        cycle = ours.get("last_cycle")
        if first and last and size > WINDOW:
            # Judged over the last cycle when the run holds one (see `last_cycle`), else the last window.
            judged = cycle["rate"] if cycle else last
            over_cycle = (f"{cycle['rate']:.0f}/s over the last {cycle['articles']:,} ({first / cycle['rate']:.2f}x), "
                          if cycle else "")
            rows.append((f"rate at 1,000,000 within {TARGET_FLATNESS}x of the rate at 10,000",
                         f"{first:.0f}/s over the first 10,000; {over_cycle}{last:.0f}/s over the last 10,000 "
                         f"of {size:,} ({first / last:.2f}x)", reached and first / judged <= TARGET_FLATNESS))
        sim = ours.get("similar", {})
        if "median_ms" in sim:
            rows.append((f"`similar` median < {TARGET_SIMILAR_MS:.0f} ms at 1,000,000",
                         f"{sim['median_ms']:.1f} ms (p95 {sim['p95_ms']:.1f}) at {size:,}",
                         reached and sim["median_ms"] < TARGET_SIMILAR_MS))
        rows.append(("peak RSS < 1 GiB at 1,000,000", f"{ours['peak_rss'] / 2**20:,.0f} MiB at {size:,}",
                     reached and ours["peak_rss"] < TARGET_RSS))
    on_pg = [r for r in runs.values() if "postgresql" in r]
    if on_pg:
        r = max(on_pg, key=lambda r: r["size"])
        rows.append(("the same run on PostgreSQL beside SQLite",
                     f"{r['postgresql']['rate']:.0f}/s against {r['sqlite']['rate']:.0f}/s at {r['size']:,}", True))
    warc = [r["warc"] for r in results if "warc" in r]
    if warc and warc[0].get("workers_cpu_seconds"):
        busy = warc[0]["workers_cpu_seconds"]
        rows.append(("HTML extraction (WARC) uses every worker",
                     f"workers' CPU {', '.join(f'{s:.1f} s' for s in busy)}",
                     min(busy) >= 0.75 * max(busy)))
    return rows


def print_targets(results: list[dict]) -> None:
    rows = target_rows(results)
    if not rows:
        return
    print("targets:")
    verdict = {True: "met", False: "NOT MET", None: "not measured at that size"}
    for target, measured, met in rows:
        print(f"  {target}: {measured} -> {verdict[met]}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        url, corpus = argv[1], Path(argv[2])
        print(json.dumps(child_ingest(url, corpus, *(int(v) for v in argv[3:7]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000],
                        help="corpus sizes to ingest (none: only the WARC run)")
    parser.add_argument("--large", action="store_true", help="add the 1,000,000-article run")
    parser.add_argument("--workers", type=int, default=2, help="processes preparing batches (default 2)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--commit-size", type=int, default=COMMIT_SIZE,
                        help=f"articles the writer places and commits at once (ARCHIVE_COMMIT_SIZE; 0: a batch; "
                             f"default {COMMIT_SIZE})")
    parser.add_argument("--sqlite-cache-mb", type=int, default=SQLITE_CACHE_MB,
                        help=f"SQLite's page cache per connection (ARCHIVE_SQLITE_CACHE_MB; default {SQLITE_CACHE_MB})")
    parser.add_argument("--workdir", type=Path, default=Path("bench-work"))
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    parser.add_argument("--postgres-max", type=int, default=100_000, help="largest size run on PostgreSQL")
    parser.add_argument("--no-plain", dest="plain", action="store_false")
    parser.add_argument("--plain-max", type=int, default=100_000, help="largest size the baseline runs at")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite archives")
    parser.add_argument("--warc", type=int, default=5_000,
                        help="HTML pages in the WARC.gz run that measures extraction (0: skip; default 5,000)")
    parser.add_argument("--similar", metavar="URL",
                        help="only time `archive similar` against this existing archive (queries drawn from it)")
    parser.add_argument("--summary", metavar="RESULTS", type=Path,
                        help="only print the targets table of a saved results.json")
    opts = parser.parse_args(argv)
    if opts.summary:
        print_targets(json.loads(opts.summary.read_text()))
        return 0
    if opts.similar:
        result = similar_against(opts.similar)
        print(f"similar against {result['articles']:,} articles: {result['queries']} queries, "
              f"median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, refused {result['refused']}")
        return 0
    try:
        corpus_mod.load_texts()
    except corpus_mod.CorpusMissing as exc:
        print(f"skipped: {exc}")
        return 0
    opts.workdir.mkdir(parents=True, exist_ok=True)
    sizes = sorted(size for size in set(opts.sizes + ([1_000_000] if opts.large else [])) if size > 0)
    commits = f" (committed {opts.commit_size} at a time)" if opts.commit_size > opts.batch_size else ""
    commits += f", SQLite cache {opts.sqlite_cache_mb} MB" if opts.sqlite_cache_mb != SQLITE_CACHE_MB else ""
    print(f"ingest benchmark: sizes {sizes}, {opts.workers} workers, batches of {opts.batch_size}{commits}, "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), workdir {opts.workdir}", flush=True)
    results = [bench_size(opts.workdir, size, opts) for size in sizes]
    if opts.warc:
        results.append({"warc": bench_warc(opts.workdir, opts.warc, opts)})
    (opts.workdir / "results.json").write_text(json.dumps(results, indent=2))
    print_targets(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
