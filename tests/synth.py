"""Synthetic articles for robustness tests: deterministic, varied, and with reprints on demand.

Texts are made of invented words, so each base article is its own event and its own text; a
reprint is the same body with a different header and a watermark line, which the archive must
link as a copy.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

_SYLLABLES = ["ka", "lo", "mi", "ter", "van", "su", "pel", "dor", "qui", "nas", "ber", "tol", "zan",
              "fi", "gru", "hem", "jo", "lux", "mor", "ped", "ris", "sto", "ur", "wel", "yat"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def body(index: int, paragraphs: int = 4) -> str:
    """The body of base article `index`: the same index always gives the same text."""
    rng = random.Random(index * 7919 + 13)
    vocabulary = [_word(rng) for _ in range(120)]
    paras = []
    for _ in range(paragraphs):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(40, 70))]
        paras.append(" ".join(words).capitalize() + ".")
    return "\n\n".join(paras)


def article(index: int, reprint: int = 0) -> str:
    """A plain-text article: title line, date line, body. `reprint` > 0 is a copy of the same body."""
    title = f"Report {index} on {' '.join(body(index).split()[:4])}"
    date = f"March {1 + index % 27}, 2025"
    if reprint:
        return f"{title} (reprint {reprint})\nBy Agency {reprint}\n{date}\n\n{body(index)}\n\nShared by outlet {reprint}.\n"
    return f"{title}\n{date}\n\n{body(index)}\n"


def write_files(folder: Path, indexes, reprints: int = 0) -> list[Path]:
    """One .txt per base article and per reprint; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in indexes:
        for r in range(reprints + 1):
            path = folder / f"a{i:05d}-{r}.txt"
            path.write_text(article(i, r), encoding="utf-8")
            paths.append(path)
    return paths


def write_jsonl(path: Path, indexes, reprints: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i in indexes:
            for r in range(reprints + 1):
                fh.write(json.dumps({"id": f"{i}-{r}", "url": f"https://example.test/{i}/{r}",
                                     "title": f"Report {i}" + (f" reprint {r}" if r else ""),
                                     "text": body(i) + (f"\n\nShared by outlet {r}." if r else ""),
                                     "published": f"2025-03-{1 + i % 27:02d}", "source": f"outlet{r}"}) + "\n")
    return path
