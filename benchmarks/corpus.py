"""A throughput corpus: N news articles as JSONL, with a known share of reprints.

Real article texts (../shared/corpora: Chinese Sina and English Reuters, in the proportion the
corpora hold them) are spread evenly over the corpus; when there are fewer real texts than
originals to write, the others are synthesised by recombining real paragraphs of one language, so
a million-article corpus reads like news without repeating whole texts. A synthesised text takes
paragraphs from at least three real texts and at most half of any one of them (by characters),
so it is neither a copy of a real text nor one padded with new paragraphs: the reprints below
are the only copies planted. The mix of real and synthesised texts is the same from the first
record to the last, so the rate over the last 10,000 records of a run compares with the rate over
the first on the same kind of input, and what changes between them is the archive's size.

A share of the records (`--reprints`, default 10%) are reprints of a recent original by a
content farm: the same text exactly, with a credit line appended or prepended, or with its last
paragraph trimmed, published a few hours after the original. (The real texts hold some copies of
their own: news wires repeat themselves.) Publication times advance at 3,000 articles a day, so a
million articles span about a year.

    python benchmarks/corpus.py --size 100000 --out /tmp/corpus-100k.jsonl.zst
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import gzip
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.reprints import _en_paragraphs, _zh_paragraphs  # noqa: E402

SHARED = ROOT.parent / "shared"
CORPORA = {"zh": "sina-2018-zh.jsonl.gz", "en": "reuters-21578-en.jsonl.gz"}
REAL_SOURCES = {"zh": "news.sina.com.cn", "en": "reuters.com"}
PER_DAY = 3000
START = dt.datetime(2025, 1, 1)
CREDITS = {"zh": ("来源：{farm}", "本文转自{farm}，版权归原作者所有"), "en": ("Source: {farm}", "Republished by {farm}")}


class CorpusMissing(RuntimeError):
    """../shared/corpora is not there: the benchmark cannot use real texts."""


@dataclasses.dataclass
class Text:
    lang: str
    title: str
    paragraphs: list[str]


def load_texts(shared: Path = SHARED) -> dict[str, list[Text]]:
    """Real articles with a title and some body, per language."""
    out: dict[str, list[Text]] = {}
    for lang, name in CORPORA.items():
        path = shared / "corpora" / name
        if not path.exists():
            continue
        split = _zh_paragraphs if lang == "zh" else _en_paragraphs
        rows = []
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                paragraphs = split(record.get("text") or "")
                if (record.get("title") or "").strip() and sum(map(len, paragraphs)) >= 200:
                    rows.append(Text(lang, record["title"].strip(), paragraphs))
        out[lang] = rows
    if not out:
        raise CorpusMissing(f"no corpus under {shared / 'corpora'}: the throughput benchmark needs "
                            f"{' and '.join(CORPORA.values())} (see ../shared/corpora/README.md)")
    return out


def generate(size: int, seed: int = 1, reprint_share: float = 0.1,
             texts: dict[str, list[Text]] | None = None) -> Iterator[dict]:
    """`size` records: real and recombined texts in a steady mix, with reprints at `reprint_share`."""
    rng = random.Random(seed)
    texts = texts or load_texts()
    langs = sorted(texts)
    weights = [len(texts[lang]) for lang in langs]
    real = [t for lang in langs for t in texts[lang]]
    rng.shuffle(real)
    # Each original is real with this chance, so the real texts last until the end of the corpus.
    real_share = min(1.0, len(real) / max(1.0, size * (1 - reprint_share)))
    recent: collections.deque[dict] = collections.deque(maxlen=2000)
    used = 0
    for i in range(size):
        published = START + dt.timedelta(seconds=i * 86400 / PER_DAY)
        if recent and rng.random() < reprint_share:
            yield _reprint(rng, rng.choice(recent), i, published)
            continue
        if used < len(real) and rng.random() < real_share:
            text, source = real[used], REAL_SOURCES[real[used].lang]
            used += 1
        else:
            text = _recombined(rng, texts[rng.choices(langs, weights)[0]])
            source = f"outlet{rng.randrange(60):02d}.example"
        record = {"id": f"a{i}", "url": f"https://{source}/{i}", "title": text.title,
                  "text": "\n\n".join(text.paragraphs), "published": published.isoformat() + "Z",
                  "source": source, "lang": text.lang}
        recent.append(record)
        yield record


def _recombined(rng: random.Random, pool: list[Text]) -> Text:
    """3 to 9 paragraphs from at least three real texts, at most half of any one's characters."""
    want = rng.randint(3, 8)
    chosen: list[str] = []
    sources: set[int] = set()
    while len(chosen) < want or len(sources) < 3:
        pick = rng.randrange(len(pool))
        if pick in sources:
            continue
        paragraphs = pool[pick].paragraphs
        budget = sum(map(len, paragraphs)) // 2
        fitting = [p for p in rng.sample(paragraphs, len(paragraphs)) if len(p) <= budget]
        taken = fitting[:min(rng.randint(1, 2), max(1, want - len(chosen)))]
        if sum(map(len, taken)) > budget:  # two paragraphs may pass half where each alone does not
            taken = taken[:1]
        if taken:
            sources.add(pick)
            chosen.extend(taken)
    rng.shuffle(chosen)
    head = chosen[0]
    title = head[:28] if pool[0].lang == "zh" else " ".join(head.split()[:12])
    return Text(pool[0].lang, title, chosen)


def _reprint(rng: random.Random, original: dict, i: int, published: dt.datetime) -> dict:
    farm = f"farm{rng.randrange(20):02d}.example"
    paragraphs = original["text"].split("\n\n")
    how = rng.choice(("exact", "appended", "prepended", "trimmed"))
    credit = rng.choice(CREDITS[original["lang"]]).format(farm=farm)
    if how == "appended":
        paragraphs = paragraphs + [credit]
    elif how == "prepended":
        paragraphs = [credit] + paragraphs
    elif how == "trimmed" and len(paragraphs) > 3:
        paragraphs = paragraphs[:-1]
    return {"id": f"a{i}", "url": f"https://{farm}/{i}", "title": original["title"], "text": "\n\n".join(paragraphs),
            "published": (published + dt.timedelta(hours=rng.randint(1, 6))).isoformat() + "Z",
            "source": farm, "lang": original["lang"], "reprint_of": original["id"]}


def write(path: Path, records) -> int:
    """Write records as JSONL (zstd-compressed when the name ends in .zst); the number written."""
    import zstandard

    n = 0
    with path.open("wb") as raw:
        sink = zstandard.ZstdCompressor(level=3).stream_writer(raw) if path.suffix == ".zst" else raw
        for record in records:
            sink.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
            n += 1
        if sink is not raw:
            sink.close()
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reprints", type=float, default=0.1, help="share of records that are reprints")
    args = parser.parse_args(argv)
    try:
        n = write(args.out, generate(args.size, args.seed, args.reprints))
    except CorpusMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    print(f"wrote {n} records to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def html_page(record: dict) -> str:
    """A news page around a record: navigation, the article with its headline and date, a footer
    and a list of other headlines, as trafilatura meets them on real sites."""
    import html

    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in record["text"].split("\n\n") if p.strip())
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(8))
    related = "".join(f'<li><a href="/more/{i}">More news item {i}</a></li>' for i in range(6))
    title = html.escape(record["title"])
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="article:published_time" content="{record["published"]}">'
            f'<link rel="canonical" href="{html.escape(record["url"])}"></head><body>'
            f'<header><nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1>'
            f'<time datetime="{record["published"]}">{record["published"]}</time>{paragraphs}</article>'
            f'<aside><h2>Related</h2><ul>{related}</ul></aside></main>'
            f'<footer><p>Copyright news site. All rights reserved.</p></footer></body></html>')


def write_warc(path: Path, records) -> int:
    """Write records as HTML pages in gzipped WARC response records (warcio), dated as published."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    n = 0
    with path.open("wb") as raw:
        writer = WARCWriter(raw, gzip=True)
        for record in records:
            body = html_page(record).encode("utf-8")
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            warc = writer.create_warc_record(record["url"], "response", payload=io.BytesIO(body),
                                             http_headers=headers,
                                             warc_headers_dict={"WARC-Date": record["published"]})
            writer.write_record(warc)
            n += 1
    return n
