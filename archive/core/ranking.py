"""Ranking candidate ids by how many index keys they share with an article, ties to the newest."""

from __future__ import annotations

import heapq
import operator
from collections import Counter

import numpy as np

_HITS_THEN_ID = operator.itemgetter(1, 0)


def top(hits: Counter, limit: int) -> list[int]:
    """The `limit` ids with the most hits, ties to the newest (the highest id), whatever the order counted."""
    return [i for i, n in heapq.nlargest(limit, hits.items(), key=_HITS_THEN_ID) if n > 0]


def most_shared(ids: np.ndarray, limit: int) -> list[int]:
    """`top` for ids listed once per shared key: the `limit` most frequent, ties to the highest."""
    if ids.size == 0:
        return []
    unique, counts = np.unique(ids, return_counts=True)
    ranked = (counts.astype(np.int64) << 32) | unique  # count first, then id (ids stay below 2**32)
    if ranked.size > limit:
        ranked = ranked[np.argpartition(ranked, -limit)[-limit:]]
    ranked.sort()
    return (ranked[::-1] & 0xFFFFFFFF).tolist()
