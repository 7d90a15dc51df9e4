"""Clustering quality figures, pure: pairwise precision/recall/F1, B-cubed, adjusted Rand index.

A clustering is a mapping item -> cluster label. Gold and predicted clusterings are compared on
the items both know. Pairwise figures count unordered item pairs placed together; B-cubed
averages, per item, the share of its predicted cluster that is right (precision) and of its gold
cluster that was found (recall); the adjusted Rand index is Hubert and Arabie's.

A figure measured on one sample of articles would move on another (a held-out split), so the
pairwise figures also come with bootstrap intervals: the sample's independent units (labelled
pairs, or groups of articles such as a corpus's topics) are drawn again with replacement, and the
figure's spread over the draws is reported as a percentile interval.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping

import numpy as np


@dataclasses.dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    true_positives: int = 0
    predicted: int = 0
    gold: int = 0

    @classmethod
    def from_counts(cls, tp: int, predicted: int, gold: int) -> "PRF":
        p = tp / predicted if predicted else 1.0
        r = tp / gold if gold else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return cls(round(p, 4), round(r, 4), round(f, 4), tp, predicted, gold)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _common(gold: Mapping[Hashable, Hashable], pred: Mapping[Hashable, Hashable]) -> list[Hashable]:
    return [item for item in gold if item in pred]


def pairwise(gold: Mapping[Hashable, Hashable], pred: Mapping[Hashable, Hashable]) -> PRF:
    """Precision, recall and F1 over all item pairs, from cluster sizes (no pair enumeration)."""
    items = _common(gold, pred)
    cells = Counter((gold[i], pred[i]) for i in items)
    tp = sum(_pairs(n) for n in cells.values())
    predicted = sum(_pairs(n) for n in Counter(pred[i] for i in items).values())
    gold_pairs = sum(_pairs(n) for n in Counter(gold[i] for i in items).values())
    return PRF.from_counts(tp, predicted, gold_pairs)


def bcubed(gold: Mapping[Hashable, Hashable], pred: Mapping[Hashable, Hashable]) -> PRF:
    items = _common(gold, pred)
    if not items:
        return PRF.from_counts(0, 0, 0)
    cells = Counter((gold[i], pred[i]) for i in items)
    gold_sizes = Counter(gold[i] for i in items)
    pred_sizes = Counter(pred[i] for i in items)
    p = sum(cells[(gold[i], pred[i])] / pred_sizes[pred[i]] for i in items) / len(items)
    r = sum(cells[(gold[i], pred[i])] / gold_sizes[gold[i]] for i in items) / len(items)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return PRF(round(p, 4), round(r, 4), round(f, 4))


def adjusted_rand_index(gold: Mapping[Hashable, Hashable], pred: Mapping[Hashable, Hashable]) -> float:
    items = _common(gold, pred)
    n = len(items)
    if n < 2:
        return 1.0
    index = sum(_pairs(c) for c in Counter((gold[i], pred[i]) for i in items).values())
    a = sum(_pairs(c) for c in Counter(gold[i] for i in items).values())
    b = sum(_pairs(c) for c in Counter(pred[i] for i in items).values())
    expected = a * b / _pairs(n)
    maximum = (a + b) / 2
    if maximum == expected:
        return 1.0
    return round((index - expected) / (maximum - expected), 4)


@dataclasses.dataclass(frozen=True)
class Chaining:
    """Articles placed with another gold cluster's majority, and predicted clusters fusing gold ones."""

    misplaced: int
    fused_clusters: int


def chaining(gold: Mapping[Hashable, Hashable], pred: Mapping[Hashable, Hashable]) -> Chaining:
    """Count what chaining produces: members of a predicted cluster whose gold cluster is not the
    cluster's majority, and predicted clusters holding two or more members of each of two gold
    clusters (one cluster grown across two events)."""
    members: dict[Hashable, Counter] = {}
    for item in _common(gold, pred):
        members.setdefault(pred[item], Counter())[gold[item]] += 1
    misplaced = fused = 0
    for counts in members.values():
        misplaced += sum(counts.values()) - counts.most_common(1)[0][1]
        if sum(1 for c in counts.values() if c >= 2) >= 2:
            fused += 1
    return Chaining(misplaced, fused)


def labelled_pairs(pairs: Iterable[tuple[Hashable, Hashable, bool]], pred: Mapping[Hashable, Hashable]) -> PRF:
    """Precision, recall and F1 of "placed together" against labelled pairs (items missing: apart)."""
    tp = predicted = gold = 0
    for a, b, positive in pairs:
        together = a in pred and b in pred and pred[a] == pred[b]
        tp += together and positive
        predicted += together
        gold += positive
    return PRF.from_counts(tp, predicted, gold)


def threshold_table(scored: Iterable[tuple[float, bool]], thresholds: Iterable[float]) -> list[PRF]:
    """Precision, recall and F1 of "score >= t" for each threshold t (for calibration)."""
    scored = list(scored)
    gold = sum(1 for _, positive in scored if positive)
    out = []
    for t in thresholds:
        predicted = [positive for score, positive in scored if score >= t]
        out.append(PRF.from_counts(sum(predicted), len(predicted), gold))
    return out


@dataclasses.dataclass(frozen=True)
class Interval:
    """Percentile bootstrap intervals (low, high) of precision, recall and F1."""

    level: float
    rounds: int
    precision: tuple[float, float]
    recall: tuple[float, float]
    f1: tuple[float, float]

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _draws(n: int, rounds: int, seed: int) -> np.ndarray:
    """How often each of `n` units is drawn, per round (`rounds` x `n`; no units: rounds x 0)."""
    if n == 0:
        return np.zeros((rounds, 0))
    return np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(float)


def _interval(tp: np.ndarray, predicted: np.ndarray, gold: np.ndarray, level: float) -> Interval:
    """Intervals of the figures `PRF.from_counts` gives, from per-draw counts (float arrays)."""
    p = np.divide(tp, predicted, out=np.ones_like(tp), where=predicted > 0)
    r = np.divide(tp, gold, out=np.ones_like(tp), where=gold > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros_like(tp), where=(p + r) > 0)
    tail = (1.0 - level) / 2 * 100

    def bounds(values: np.ndarray) -> tuple[float, float]:
        low, high = np.percentile(values, [tail, 100 - tail])
        return round(float(low), 4), round(float(high), 4)

    return Interval(level, len(tp), bounds(p), bounds(r), bounds(f))


def pairwise_interval(gold: Mapping[Hashable, Hashable], pred: Mapping[Hashable, Hashable],
                      unit: Mapping[Hashable, Hashable] | None = None, rounds: int = 1000,
                      level: float = 0.9, seed: int = 0) -> Interval:
    """Bootstrap interval of `pairwise`, drawing whole units (default: gold clusters).

    A unit must hold whole gold clusters, and should hold what is only hard together (a topic's
    two events): the pairs of a draw are those inside each drawn unit, counted once per draw of
    it, and the predicted pairs across two drawn units (a false merge of two units).
    """
    items = _common(gold, pred)
    unit_of = {i: (unit[i] if unit is not None else gold[i]) for i in items}
    units = sorted(set(unit_of.values()), key=repr)
    index = {u: k for k, u in enumerate(units)}
    n = len(units)
    tp, gold_pairs, inside = np.zeros(n), np.zeros(n), np.zeros(n)
    for (u, _g, _p), count in Counter((unit_of[i], gold[i], pred[i]) for i in items).items():
        tp[index[u]] += _pairs(count)
    for (u, _g), count in Counter((unit_of[i], gold[i]) for i in items).items():
        gold_pairs[index[u]] += _pairs(count)
    per_cluster: dict[Hashable, Counter] = {}
    for i in items:
        per_cluster.setdefault(pred[i], Counter())[index[unit_of[i]]] += 1
    across = np.zeros((n, n))
    for counts in per_cluster.values():
        for k, c in counts.items():
            inside[k] += _pairs(c)
        spread = list(counts.items())
        for x, (k, ck) in enumerate(spread):
            for m, cm in spread[x + 1:]:
                across[k, m] += ck * cm
                across[m, k] += ck * cm
    draws = _draws(n, rounds, seed)
    predicted = draws @ inside + 0.5 * np.einsum("ri,ij,rj->r", draws, across, draws)
    return _interval(draws @ tp, predicted, draws @ gold_pairs, level)


def labelled_interval(pairs: Iterable[tuple[Hashable, Hashable, bool]], pred: Mapping[Hashable, Hashable],
                      rounds: int = 1000, level: float = 0.9, seed: int = 0) -> Interval:
    """Bootstrap interval of `labelled_pairs`, drawing labelled pairs."""
    outcomes = [(a in pred and b in pred and pred[a] == pred[b], positive) for a, b, positive in pairs]
    return outcome_interval(outcomes, rounds, level, seed)


def outcome_interval(outcomes: Iterable[tuple[bool, bool]], rounds: int = 1000, level: float = 0.9,
                     seed: int = 0) -> Interval:
    """Bootstrap interval of the figures of (placed together, truly together) outcomes, drawing them."""
    outcomes = list(outcomes)
    together = np.array([t for t, _ in outcomes], dtype=float)
    positive = np.array([p for _, p in outcomes], dtype=float)
    n = len(outcomes)
    draws = _draws(n, rounds, seed)
    return _interval(draws @ (together * positive), draws @ together, draws @ positive, level)
