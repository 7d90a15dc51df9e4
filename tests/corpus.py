"""A generated news corpus with known copies and events, written as JSONL for real ingest.

Three events on dates far apart; each has two independent write-ups (alpha.example and
beta.example) that share the event's names but no sentences, and reprints of the alpha write-up
on farm.example (a watermark line after every paragraph) and, for the first event,
mirror.example (the last paragraph dropped). Every delay of a copy after its original is known.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

FILLER = (
    "harbour committee budget district council railway festival museum orchard vineyard bridge "
    "engineer volunteer ministry shipment factory tunnel airport cathedral meadow glacier reservoir "
    "lighthouse observatory fishermen orchestra pavilion quarry laboratory monastery plantation "
    "ferry highway stadium library hospital archive warehouse brewery bakery garrison workshop "
    "inspector governor surveyor treasurer magistrate chancellor courier merchant architect pilot"
).split()
VERBS = ("announced", "confirmed", "reviewed", "inspected", "approved", "delayed", "opened",
         "funded", "questioned", "praised", "postponed", "expanded")
SYLLABLES = ("kel", "mor", "vin", "tar", "oq", "zul", "bre", "nax", "dov", "lem", "quo", "rith",
             "sab", "ulm", "yor", "fen", "gax", "hib", "jor", "wex")
BASE = dt.datetime(2025, 3, 1, 8, 0, 0)
EVENT_DAYS = (0, 9, 19)
COPY_DELAYS_HOURS = {"farm.example": (3, 7, 26), "mirror.example": (5, None, None)}
WATERMARK = "Reposted by farm.example, the fastest news on the web"


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def _paragraphs(rng: random.Random, names: list[str], count: int = 6) -> list[str]:
    out = []
    for _ in range(count):
        sentences = []
        for _ in range(3):
            words = rng.sample(FILLER, 6)
            who, where = rng.sample(names, 2)
            sentences.append(f"{who} {rng.choice(VERBS)} the {words[0]} {words[1]} near {where} "
                             f"while the {words[2]} {words[3]} {rng.choice(VERBS)} {words[4]} {words[5]}.")
        out.append(" ".join(sentences))
    return out


def build(seed: int = 7) -> dict:
    """Records plus the truth: which urls are copies of which, and which share an event."""
    rng = random.Random(seed)
    records, copies, events = [], {}, []
    for e, day in enumerate(EVENT_DAYS):
        names = [_name(rng) for _ in range(5)]
        when = BASE + dt.timedelta(days=day)
        event_urls = []
        writeups = {}
        for k, source in enumerate(("alpha.example", "beta.example")):
            url = f"https://{source}/event{e}/story"
            paragraphs = _paragraphs(rng, names)
            writeups[source] = paragraphs
            records.append({"url": url, "source": source, "title": f"{names[0]} and {names[1]}: report {e}-{k}",
                            "published": (when + dt.timedelta(hours=k)).isoformat(), "text": "\n\n".join(paragraphs)})
            event_urls.append(url)
        original = f"https://alpha.example/event{e}/story"
        for source, delays in COPY_DELAYS_HOURS.items():
            delay = delays[e]
            if delay is None:
                continue
            paragraphs = writeups["alpha.example"]
            if source == "farm.example":
                text = "\n\n".join(p + "\n\n" + WATERMARK for p in paragraphs)
            else:
                text = "\n\n".join(paragraphs[:-1])
            url = f"https://{source}/copy/{e}"
            records.append({"url": url, "source": source, "title": f"{names[0]} and {names[1]}: report {e}-0",
                            "published": (when + dt.timedelta(hours=delay)).isoformat(), "text": text})
            copies[url] = (original, delay * 3600)
            event_urls.append(url)
        events.append(event_urls)
    return {"records": records, "copies": copies, "events": events}


def write(path: Path, seed: int = 7) -> dict:
    corpus = build(seed)
    with path.open("w", encoding="utf-8") as fh:
        for record in corpus["records"]:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return corpus


def extra_event(path: Path, seed: int = 99) -> list[dict]:
    """A later, unrelated event (one write-up and one farm copy), for ingest-after-curation tests."""
    rng = random.Random(seed)
    names = [_name(rng) for _ in range(5)]
    when = BASE + dt.timedelta(days=40)
    paragraphs = _paragraphs(rng, names)
    records = [
        {"url": "https://alpha.example/event9/story", "source": "alpha.example", "title": f"{names[0]} report",
         "published": when.isoformat(), "text": "\n\n".join(paragraphs)},
        {"url": "https://farm.example/copy/9", "source": "farm.example", "title": f"{names[0]} report",
         "published": (when + dt.timedelta(hours=2)).isoformat(),
         "text": "\n\n".join(p + "\n\n" + WATERMARK for p in paragraphs)},
    ]
    with path.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")
    return records
