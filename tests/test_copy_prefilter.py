"""The signature prefilter before exact copy verification: it may let non-copies through (they are
then verified exactly) but must not hold back a copy, padded and trimmed ones included."""

from __future__ import annotations

import random

import numpy as np

from archive.core import matching, sketch

CONFIG = matching.MatchingConfig()
SKETCH = sketch.SketchConfig()


def _text(rng: random.Random, words: int) -> list[str]:
    vocabulary = [f"w{i}" for i in range(5000)]
    return [rng.choice(vocabulary) for _ in range(words)]


def _sketch(tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
    shingles = np.unique(sketch.shingle_hashes_from_tokens(tokens, SKETCH.word_ngram))
    return shingles, sketch.signature(shingles, SKETCH)


def _decisions(a: list[str], b: list[str]) -> tuple[bool, bool]:
    (sa, ga), (sb, gb) = _sketch(a), _sketch(b)
    exact = matching.is_copy(matching.overlap(sa, sb), CONFIG)
    return exact, matching.may_be_copy(ga, sa.size, gb, sb.size, CONFIG)


def test_no_copy_is_held_back():
    rng = random.Random(7)
    copies = 0
    for trial in range(300):
        body = _text(rng, rng.randint(40, 600))
        kind = trial % 4
        if kind == 0:  # padded: the text inside a page up to ten times its size
            other = _text(rng, rng.randint(0, 9) * len(body)) + body + _text(rng, rng.randint(0, 50))
        elif kind == 1:  # trimmed ending
            other = body[: int(len(body) * rng.uniform(0.75, 1.0))]
        elif kind == 2:  # a few words edited
            other = [w if rng.random() > 0.03 else "edited" for w in body]
        else:  # another text of the same vocabulary
            other = _text(rng, len(body))
        exact, allowed = _decisions(body, other)
        copies += exact
        assert allowed or not exact, (trial, kind, len(body), len(other))
    assert copies > 150  # the cases above are mostly copies: the check is not vacuous


def test_unrelated_texts_are_held_back():
    rng = random.Random(11)
    held = sum(not _decisions(_text(rng, 300), _text(rng, 300))[1] for _ in range(100))
    assert held == 100
