"""A reprint corpus with ground truth, generated deterministically from real article texts.

Originals come from ../shared/corpora (Chinese Sina and English Reuters articles) when present,
else from the repository's seeds. Each original gets zero to four reprints, published by
content-farm sources, each carrying a few of these perturbations:

  watermark after (or before) every paragraph, an appended "recommended" list of headlines with
  dates, share/app prompts, a moved or removed byline, a new headline, a trimmed or extended
  ending, a paragraph dropped or two swapped, full-width/half-width punctuation swapped,
  traditional/simplified characters swapped (OpenCC), a few characters edited.

Hard negatives: every farm republishes many different originals with the same boilerplate (its
watermark, prompts and headline list) and publishes some articles of its own, so different articles
of one source share boilerplate; and originals are drawn from a few categories, so many are on the
same topic without being copies.

Ground truth: one row per article with its copy group (the original's id). Run
`python benchmarks/reprints.py OUT_DIR` to write `reprints.jsonl` and `reprints.truth.jsonl`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gzip
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = ("sina-2018-zh.jsonl.gz", "reuters-21578-en.jsonl.gz")

FARMS = [
    {"name": "farm-news-01", "zh": "5G即热资讯——关注每天科技社会新变化xinwen01.com", "en": "Read more at dailybuzz01.com"},
    {"name": "farm-news-02", "zh": "（本文来自今日头条网，更多精彩请访问toutiao-02.cn）", "en": "(c) NewsWire Today - newswire02.net"},
    {"name": "farm-news-03", "zh": "更多资讯请关注微信公众号：每日看点", "en": "Follow TopStories for more updates"},
    {"name": "farm-news-04", "zh": "看点快报 kandian04.com 原创首发", "en": "Source: GlobalFeed04 Aggregator"},
    {"name": "farm-news-05", "zh": "【东方资讯网 www.dfzx05.com】", "en": "Powered by NewsHub05.com"},
    {"name": "farm-news-06", "zh": "免责声明：本站文章均来自网络，如有侵权请联系删除", "en": "Copyright NewsPortal06. All rights reserved."},
]
PROMPTS = {
    "zh": ["点击右上角，分享到朋友圈", "下载新闻APP，阅读更多精彩内容", "扫一扫二维码，关注我们"],
    "en": ["Share this article on Facebook", "Download the app to read more", "Sign up for our newsletter"],
}
LIST_HEAD = {"zh": "为你推荐", "en": "Recommended for you"}
HEADLINE_TRAILS = {"zh": ("【独家】", "（组图）", "，网友炸锅了"), "en": ("BREAKING: ", " (UPDATED)", " - must read")}
_SENTENCE_RE = re.compile(r"(?<=[。！？!?])")
_WIDTHS = str.maketrans({",": "，", ";": "；", ":": "：", "!": "！", "?": "？", "(": "（", ")": "）",
                         "，": ",", "；": ";", "：": ":", "！": "!", "？": "?", "（": "(", "）": ")"})


@dataclasses.dataclass
class Original:
    id: str
    lang: str
    title: str
    paragraphs: list[str]
    category: str


def _zh_paragraphs(text: str) -> list[str]:
    """Sina bodies are one line: regroup their sentences into paragraphs of about 150 characters."""
    out, current = [], ""
    for sentence in _SENTENCE_RE.split(text.replace("\n", "")):
        current += sentence
        if len(current) >= 150:
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return [p for p in out if p]


def _en_paragraphs(text: str) -> list[str]:
    """Reuters bodies wrap lines at 70 columns and indent paragraphs with spaces."""
    text = re.sub(r"\s*Reuter\s*$", "", text)
    paras = [" ".join(p.split()) for p in re.split(r"\n\s{3,}", text)]
    return [p for p in paras if p]


def _shingles(text: str) -> set[str]:
    compact = re.sub(r"\W+", "", text.lower())
    return {compact[i : i + 5] for i in range(max(1, len(compact) - 4))}


def load_originals(rng: random.Random, per_language: int, shared: Path) -> list[Original]:
    """Distinct originals (no two share 30% of their shingles) of a readable length."""
    pools: list[Original] = []
    corpora = shared / "corpora"
    found = [name for name in CORPORA if (corpora / name).exists()]
    for name in found:
        rows = []
        with gzip.open(corpora / name, "rt", encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                lang = "zh" if name.startswith("sina") else "en"
                paras = _zh_paragraphs(r["text"]) if lang == "zh" else _en_paragraphs(r.get("text") or "")
                chars = sum(len(p) for p in paras)
                if r.get("title") and 4 <= len(paras) <= 12 and (600 if lang == "zh" else 1200) <= chars <= 4000:
                    rows.append(Original(r["id"], lang, r["title"].strip(), paras, r.get("category") or "news"))
        rng.shuffle(rows)
        if lang == "zh":  # a few categories, so that many originals share a topic
            rows = [r for r in rows if r.category in ("testSport", "Entertainment", "testTech")]
        pools.extend(_distinct(rows, per_language))
    if not pools:
        pools = _seed_originals()
    return pools


def _distinct(rows: list[Original], limit: int) -> list[Original]:
    chosen: list[tuple[Original, set[str]]] = []
    for row in rows:
        sh = _shingles("".join(row.paragraphs))
        if all(len(sh & other) < 0.3 * min(len(sh), len(other)) for _, other in chosen):
            chosen.append((row, sh))
            if len(chosen) >= limit:
                break
    return [row for row, _ in chosen]


def _seed_originals() -> list[Original]:
    out = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        lines = [line.strip() for line in path.read_text("utf-8").splitlines() if len(line.strip()) > 40]
        out.append(Original(path.stem, "zh", lines[0][:60], lines[1:], "seed"))
    return out


def _s2t():
    from opencc_purepy import OpenCC

    return OpenCC("s2t")


class Perturber:
    """The perturbations, each a function of (paragraphs, context) -> paragraphs."""

    def __init__(self, rng: random.Random, originals: list[Original]):
        self.rng = rng
        self.originals = originals
        self._opencc = None

    def headlines(self, lang: str, when: dt.datetime, k: int = 5) -> list[str]:
        pool = [o for o in self.originals if o.lang == lang]
        picks = self.rng.sample(pool, min(k, len(pool)))
        out = [LIST_HEAD[lang]]
        for i, o in enumerate(picks):
            day = when - dt.timedelta(days=i + 1)
            out += [o.title, day.strftime("%Y-%m-%d %H:%M")]
        return out

    def edit_chars(self, paragraphs: list[str]) -> list[str]:
        out = list(paragraphs)
        for _ in range(3):
            i = self.rng.randrange(len(out))
            p = out[i]
            if len(p) > 20:
                j = self.rng.randrange(len(p) - 1)
                out[i] = p[:j] + p[j + 1] + p[j] + p[j + 2 :]
        return out

    def traditional(self, paragraphs: list[str]) -> list[str]:
        if self._opencc is None:
            self._opencc = _s2t()
        return [self._opencc.convert(p) for p in paragraphs]


def make_reprint(rng: random.Random, pert: Perturber, o: Original, farm: dict, when: dt.datetime) -> tuple[dict, list[str]]:
    """One reprint of `o` by `farm`, with the perturbations applied (listed for the ground truth)."""
    paras = list(o.paragraphs)
    applied: list[str] = []
    lang = o.lang
    choices = ["trim", "extend", "drop", "swap", "width", "edit", "byline", "headline", "prompts"]
    if lang == "zh":
        choices.append("traditional")
    for name in rng.sample(choices, rng.randint(1, 3)):
        applied.append(name)
        if name == "trim":
            paras = paras[: max(3, int(len(paras) * 0.8))]
        elif name == "extend":
            others = [x for x in pert.originals if x.lang == lang and x.id != o.id]
            paras = paras + (rng.choice(others).paragraphs[:1] if others else [])
        elif name == "drop" and len(paras) > 4:
            del paras[rng.randrange(1, len(paras))]
        elif name == "swap" and len(paras) > 3:
            i = rng.randrange(len(paras) - 1)
            paras[i], paras[i + 1] = paras[i + 1], paras[i]
        elif name == "width":
            paras = [p.translate(_WIDTHS) for p in paras]
        elif name == "edit":
            paras = pert.edit_chars(paras)
        elif name == "traditional":
            paras = pert.traditional(paras)
        elif name == "prompts":
            prompt = rng.choice(PROMPTS[lang])
            paras.insert(rng.randrange(1, len(paras)), prompt)
            paras.append(prompt)
    # The farm's own boilerplate: most of its pages carry its watermark, some a headline list.
    style = rng.random()
    mark = farm[lang]
    if style < 0.4:
        paras = [p + mark for p in paras]
        applied.append("watermark-after")
    elif style < 0.6:
        paras = [mark + p for p in paras]
        applied.append("watermark-before")
    if rng.random() < 0.5:
        paras += pert.headlines(lang, when)
        applied.append("headline-list")
    title = o.title
    if "headline" in applied:
        trail = rng.choice(HEADLINE_TRAILS[lang])
        title = trail + title if trail.endswith(" ") or trail.startswith("【") else title + trail
    header = [when.strftime("%Y-%m-%d %H:%M")]
    if "byline" not in applied:
        header.insert(0, "记者 王明 报道" if lang == "zh" else "By John Smith, Staff Writer")
    else:
        paras.append("（记者 王明）" if lang == "zh" else "Reporting by John Smith")
    record = {"title": title, "text": "\n".join(header + paras), "published": when.isoformat(), "source": farm["name"]}
    return record, applied


def generate(seed: int = 20251117, per_language: int = 120, shared: Path = SHARED) -> tuple[list[dict], list[dict]]:
    """(records, truth): JSONL records for `archive ingest` and one truth row per record."""
    rng = random.Random(seed)
    originals = load_originals(rng, per_language, shared)
    pert = Perturber(rng, originals)
    start = dt.datetime(2024, 3, 1, 8, 0)
    records, truth = [], []
    own = max(1, len(originals) // 8)
    for n, o in enumerate(originals):
        when = start + dt.timedelta(hours=6 * n)
        if n >= len(originals) - own:
            # Hard negative: a farm's own article, with the boilerplate of the farm's reprints.
            rec, applied = make_reprint(rng, pert, o, rng.choice(FARMS), when)
            records.append({"id": f"own-{o.id}", **rec})
            truth.append({"id": f"own-{o.id}", "group": f"own-{o.id}", "kind": "negative", "lang": o.lang,
                          "category": o.category, "perturbations": applied})
            continue
        oid = f"orig-{o.id}"
        records.append({"id": oid, "title": o.title, "text": "\n".join(o.paragraphs), "published": when.isoformat(),
                        "source": "sina.com.cn" if o.lang == "zh" else "reuters.com"})
        truth.append({"id": oid, "group": oid, "kind": "original", "lang": o.lang, "category": o.category,
                      "perturbations": []})
        few = len(originals) < 10  # the seeds stand in: more reprints of each
        for k in range(6 if few else rng.choice((0, 1, 2, 3, 3, 4))):
            farm = rng.choice(FARMS)
            rec, applied = make_reprint(rng, pert, o, farm, when + dt.timedelta(hours=rng.randint(1, 60)))
            rid = f"copy-{o.id}-{k}"
            records.append({"id": rid, **rec})
            truth.append({"id": rid, "group": oid, "kind": "reprint", "lang": o.lang, "category": o.category,
                          "perturbations": applied})
    order = list(range(len(records)))
    rng.shuffle(order)
    return [records[i] for i in order], [truth[i] for i in order]


def write(out_dir: Path, seed: int = 20251117, per_language: int = 120, shared: Path = SHARED) -> tuple[Path, Path]:
    records, truth = generate(seed, per_language, shared)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus, gold = out_dir / "reprints.jsonl", out_dir / "reprints.truth.jsonl"
    with corpus.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with gold.open("w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(t, ensure_ascii=False) + "\n" for t in truth)
    return corpus, gold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=20251117)
    parser.add_argument("--per-language", type=int, default=120, help="originals per language")
    parser.add_argument("--shared", type=Path, default=SHARED)
    args = parser.parse_args(argv)
    corpus, gold = write(args.out_dir, args.seed, args.per_language, args.shared)
    print(f"wrote {corpus} and {gold}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
