"""Quality benchmark: each data set ingested into a fresh archive through the real pipeline.

    python benchmarks/quality.py                     # every data set found, table + JSON
    python benchmarks/quality.py --only ecbplus      # one data set

For each data set it builds a fresh SQLite archive, ingests the articles as JSONL through
`Archive.ingest_paths` (the code path of `archive ingest`) with the shipped defaults, reads back
where each article was placed and prints, beside a plain baseline (character 5-gram MinHash,
datasketch MinHashLSH at 0.5, connected components):

- pairwise precision / recall / F1 of copy pairs and of same-event pairs (gold clusters),
- B-cubed F1 and adjusted Rand index of the event clusters, and chaining errors (articles placed
  with another event's majority; predicted clusters fusing two gold events),
- on labelled pairs (sina-zh, sohu, UCI): how each label was placed,
- a 90% bootstrap interval of each pairwise F1 (`archive.core.metrics.pairwise_interval` and
  `labelled_interval`): how far the figure could move on another sample like this one, such as
  a held-out split. Labelled pairs are drawn again; articles are drawn as whole gold clusters, and
  ECB+'s as whole topics (each topic's two events are what makes it hard).

Data sets are read from ../shared (or --shared); a data set whose files are absent is skipped
with a message. The figures are written as JSON (default benchmarks/results/quality.json).
`--split test` reads the held-out files (`articles.test.jsonl`, `pairs.test.jsonl`,
`clusters.test.jsonl`, in the same formats) wherever they are put beside the dev ones; tuning is
done on `dev` only, the default.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import reprints  # noqa: E402
from archive.core import metrics  # noqa: E402

SHARED = ROOT.parent / "shared"


@dataclasses.dataclass
class Dataset:
    name: str
    records: list[dict]
    gold_copy: dict[str, str] | None = None  # article id -> gold copy group (complete)
    gold_event: dict[str, str] | None = None  # article id -> gold event (complete)
    pairs: list[tuple[str, str, str]] | None = None  # (a, b, label)
    copy_labels: tuple[str, ...] = ()  # labels that mean "same copy cluster"
    event_labels: tuple[str, ...] = ()  # labels that mean "same event cluster"
    units: dict[str, str] | None = None  # article id -> the unit a bootstrap draws (default: gold cluster)
    note: str = ""


class Missing(Exception):
    """A data set's files are absent: the benchmark skips it with this message."""


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise Missing(f"{path} not found")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _gold_clusters(path: Path) -> dict[str, str]:
    return {member: row["cluster"] for row in _read_jsonl(path) for member in row["members"]}


def _split(folder: Path, stem: str, args) -> Path:
    """The file of one split of an eval data set, e.g. eval/ecbplus/articles.dev.jsonl."""
    return folder / f"{stem}.{args.split}.jsonl"


def _split_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
        raise argparse.ArgumentTypeError(f"{value!r}: a split is a plain name such as dev or test")
    return value


def load_reprints(shared: Path, args) -> Dataset:
    records, truth = reprints.generate(args.seed, args.reprint_originals, shared)
    source = "../shared/corpora" if any((shared / "corpora" / n).exists() for n in reprints.CORPORA) else "seeds"
    return Dataset("reprints", records, gold_copy={t["id"]: t["group"] for t in truth},
                   note=f"generated from {source}, seed {args.seed}")


def load_ecbplus(shared: Path, args) -> Dataset:
    d = shared / "eval" / "ecbplus"
    records = _read_jsonl(_split(d, "articles", args))
    gold = _gold_clusters(_split(d, "clusters", args))
    topics = {item: re.sub(r"-ecb(plus)?$", "", cluster) for item, cluster in gold.items()}
    return Dataset("ecbplus", records, gold_event=gold, units=topics, note=f"{args.split} split, no dates")


def load_uci(shared: Path, args) -> Dataset:
    d = shared / "eval" / "uci-news-aggregator-sample"
    records = _read_jsonl(_split(d, "articles", args))
    for r in records:
        r["published"] = r.pop("date", None)
    gold = _gold_clusters(_split(d, "clusters", args))
    pairs = [(p["a"], p["b"], str(p["label"])) for p in _read_jsonl(_split(d, "pairs", args))]
    return Dataset("uci", records, gold_event=gold, pairs=pairs, event_labels=("1",),
                   note=f"{args.split} split, headlines only")


def load_sohu(shared: Path, args) -> Dataset:
    d = shared / "eval" / "sohu2021-sample"
    records = _read_jsonl(_split(d, "articles", args))
    pairs = [(p["a"], p["b"], str(p["label"])) for p in _read_jsonl(_split(d, "pairs", args)) if p["a"] != p["b"]]
    return Dataset("sohu", records, pairs=pairs, event_labels=("1",),
                   note=f"{args.split} split, short fragments, label = same topic")


def load_sina(shared: Path, args) -> Dataset:
    pairs_rows = _read_jsonl(_split(shared / "eval" / "sina-zh", "pairs", args))
    wanted = {p["a"] for p in pairs_rows} | {p["b"] for p in pairs_rows}
    records = []
    with gzip.open(_existing(shared / "corpora" / "sina-2018-zh.jsonl.gz"), "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["id"] in wanted or args.sina_full:
                records.append({k: row[k] for k in ("id", "title", "text", "source")})
    pairs = [(p["a"], p["b"], p["label"]) for p in pairs_rows]
    note = "the whole corpus (12,461 articles, no dates)" if args.sina_full else f"articles of the {args.split} pairs"
    return Dataset("sina-zh", records, pairs=pairs, copy_labels=("COPY",), event_labels=("COPY", "SAME_EVENT"),
                   note=f"{note}, corpus order")


def _existing(path: Path) -> Path:
    if not path.exists():
        raise Missing(f"{path} not found")
    return path


LOADERS: dict[str, Callable[[Path, argparse.Namespace], Dataset]] = {
    "reprints": load_reprints,
    "ecbplus": load_ecbplus,
    "sina-zh": load_sina,
    "uci": load_uci,
    "sohu": load_sohu,
}


# -- the project --------------------------------------------------------------------------------


def run_project(ds: Dataset, workdir: Path, config: Path | None) -> tuple[dict[str, int], dict[str, int], dict]:
    """Ingest the records into a fresh archive; (id -> copy cluster, id -> event cluster, counts)."""
    from sqlalchemy import select

    from archive.api import Archive
    from archive.config import load_settings
    from archive.db.models import Article, ClusterMember

    db = workdir / f"{ds.name}.db"
    db.unlink(missing_ok=True)
    env = {"ARCHIVE_DATABASE_URL": f"sqlite:///{db}", "ARCHIVE_DATA_DIR": str(workdir)}
    if config:
        env["ARCHIVE_CONFIG"] = str(config)
    settings = load_settings(env) if config else _defaults(env)
    corpus = workdir / f"{ds.name}.jsonl"
    url_to_id = {}
    with corpus.open("w", encoding="utf-8") as fh:
        for r in ds.records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            url_to_id[r.get("url") or f"urn:record:{r.get('source') or 'jsonl'}:{r['id']}"] = r["id"]
    with Archive(settings) as archive:
        archive.upgrade()
        started = time.perf_counter()
        summary = archive.ingest_paths([corpus])
        seconds = time.perf_counter() - started
        copy_of, event_of = {}, {}
        with archive.session() as session:
            rows = session.execute(
                select(Article.url, ClusterMember.kind, ClusterMember.cluster_id)
                .join(ClusterMember, ClusterMember.article_id == Article.id)
            )
            for url, kind, cluster_id in rows:
                target = copy_of if kind == "copy" else event_of
                target[url_to_id[url]] = cluster_id
    counts = {"new": summary.new, "copies": summary.copies, "duplicates": summary.duplicates,
              "rejected": summary.rejected, "seconds": round(seconds, 2)}
    return _complete(ds, copy_of, "c"), _complete(ds, event_of, "e"), counts


def _defaults(env: dict[str, str]):
    from archive.config import Settings

    return Settings(database_url=env["ARCHIVE_DATABASE_URL"], data_dir=Path(env["ARCHIVE_DATA_DIR"]))


def _complete(ds: Dataset, placed: dict[str, int], prefix: str) -> dict[str, object]:
    """Every record gets a cluster: a rejected or skipped one stands alone."""
    return {r["id"]: placed.get(r["id"], f"{prefix}-alone-{r['id']}") for r in ds.records}


# -- the baseline -------------------------------------------------------------------------------


def run_baseline(ds: Dataset) -> dict[str, int]:
    """Character 5-gram MinHash, MinHashLSH at 0.5, connected components of the candidate pairs."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    parent = {r["id"]: r["id"] for r in ds.records}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for r in ds.records:
        text = re.sub(r"\s+", " ", f"{r.get('title') or ''} {r.get('text') or ''}".lower()).strip()
        grams = {text[i : i + 5] for i in range(max(1, len(text) - 4))}
        mh = MinHash(num_perm=128)
        mh.update_batch([g.encode("utf-8") for g in grams])
        for other in lsh.query(mh):
            parent[find(other)] = find(r["id"])
        if r["id"] not in lsh.keys:
            lsh.insert(r["id"], mh)
    return {r["id"]: find(r["id"]) for r in ds.records}


# -- figures ------------------------------------------------------------------------------------


def figures(ds: Dataset, copy_of: dict, event_of: dict) -> dict:
    out: dict = {}
    if ds.gold_copy:
        out["copy_pairwise"] = metrics.pairwise(ds.gold_copy, copy_of).as_dict()
        out["copy_bcubed_f1"] = metrics.bcubed(ds.gold_copy, copy_of).f1
        out["copy_interval"] = metrics.pairwise_interval(ds.gold_copy, copy_of).as_dict()
    if ds.gold_event:
        out["event_pairwise"] = metrics.pairwise(ds.gold_event, event_of).as_dict()
        out["event_bcubed_f1"] = metrics.bcubed(ds.gold_event, event_of).f1
        out["event_ari"] = metrics.adjusted_rand_index(ds.gold_event, event_of)
        out["event_interval"] = metrics.pairwise_interval(ds.gold_event, event_of, ds.units).as_dict()
        out["chaining"] = dataclasses.asdict(metrics.chaining(ds.gold_event, event_of))
    if ds.pairs:
        per_label: dict[str, dict] = {}
        for a, b, label in ds.pairs:
            row = per_label.setdefault(label, {"pairs": 0, "same_copy": 0, "same_event": 0})
            row["pairs"] += 1
            row["same_copy"] += copy_of[a] == copy_of[b]
            row["same_event"] += event_of[a] == event_of[b]
        out["labels"] = dict(sorted(per_label.items()))
        for level, labels, placed in (("copy", ds.copy_labels, copy_of), ("event", ds.event_labels, event_of)):
            if not labels:
                continue
            labelled = [(a, b, lab in labels) for a, b, lab in ds.pairs]
            out[f"{level}_pairs"] = metrics.labelled_pairs(labelled, placed).as_dict()
            if f"{level}_interval" not in out:  # gold clusters, where given, are the figure shown (UCI)
                out[f"{level}_interval"] = metrics.labelled_interval(labelled, placed).as_dict()
    return out


def evaluate(ds: Dataset, workdir: Path, config: Path | None) -> dict:
    copy_of, event_of, counts = run_project(ds, workdir, config)
    base = run_baseline(ds)
    return {"articles": len(ds.records), "note": ds.note, "ingest": counts,
            "project": figures(ds, copy_of, event_of), "baseline": figures(ds, base, base)}


def _prf(d: dict | None) -> str:
    return f"{d['precision']:.3f} / {d['recall']:.3f} / {d['f1']:.3f}" if d else "-"


def _f1_interval(f: dict) -> str:
    spans = [f"{level} {f[key]['f1'][0]:.2f}-{f[key]['f1'][1]:.2f}"
             for level, key in (("copy", "copy_interval"), ("event", "event_interval")) if key in f]
    return ", ".join(spans) or "-"


def print_report(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 150))
    table = Table(title="Quality (P / R / F1); baseline = char 5-gram MinHashLSH@0.5 + connected components")
    for col in ("data set", "method", "copy pairs", "event pairs", "F1 90% interval", "B3 F1", "ARI", "misplaced",
                "fused"):
        table.add_column(col)
    for name, res in results.items():
        if "skipped" in res:
            continue
        for method in ("project", "baseline"):
            f = res[method]
            chaining = f.get("chaining") or {}
            table.add_row(
                name if method == "project" else "", method,
                _prf(f.get("copy_pairwise") or f.get("copy_pairs")),
                _prf(f.get("event_pairwise") or f.get("event_pairs")), _f1_interval(f),
                str(f.get("event_bcubed_f1", f.get("copy_bcubed_f1", "-"))), str(f.get("event_ari", "-")),
                str(chaining.get("misplaced", "-")), str(chaining.get("fused_clusters", "-")),
            )
    console.print(table)
    for name, res in results.items():
        if "skipped" in res:
            console.print(f"[yellow]skipped {name}[/]: {res['skipped']}")
        elif "labels" in res["project"]:
            labels = Table(title=f"{name}: how each label was placed (project | baseline)")
            for col in ("label", "pairs", "same copy", "same event", "baseline same cluster"):
                labels.add_column(col)
            for label, row in res["project"]["labels"].items():
                brow = res["baseline"]["labels"][label]
                labels.add_row(label, str(row["pairs"]), f"{row['same_copy'] / row['pairs']:.2f}",
                               f"{row['same_event'] / row['pairs']:.2f}", f"{brow['same_event'] / brow['pairs']:.2f}")
            console.print(labels)
    for name, res in results.items():
        if "ingest" in res:
            console.print(f"{name}: {res['articles']} articles, {res['note']}; ingest {res['ingest']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Quality benchmark of the archive against a plain baseline.")
    parser.add_argument("--only", action="append", choices=sorted(LOADERS), help="run only these data sets")
    parser.add_argument("--shared", type=Path, default=SHARED, help="folder holding eval/ and corpora/")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "quality.json")
    parser.add_argument("--config", type=Path, help="an archive.toml to use instead of the shipped defaults")
    parser.add_argument("--split", default="dev", type=_split_name,
                        help="which labelled files to read: NAME reads *.NAME.jsonl (default dev; "
                             "test for a held-out split put beside it)")
    parser.add_argument("--seed", type=int, default=20251117, help="seed of the reprint corpus")
    parser.add_argument("--reprint-originals", type=int, default=120, help="originals per language")
    parser.add_argument("--sina-full", action="store_true",
                        help="ingest the whole Sina corpus around the sina-zh pairs (slow: minutes)")
    args = parser.parse_args(argv)
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="archive-quality-") as tmp:
        for name in args.only or LOADERS:
            try:
                ds = LOADERS[name](args.shared, args)
            except Missing as exc:
                results[name] = {"skipped": str(exc)}
                continue
            results[name] = evaluate(ds, Path(tmp), args.config)
    print_report(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
