"""Matching rules, pure: when two texts are copies, when an article joins an event, who is original."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np

from archive.core import anchors, events


@dataclasses.dataclass(frozen=True)
class MatchingConfig:
    """Thresholds that place an article in clusters (README, "How matching works").

    copy_jaccard: exact shingle Jaccard at or above which two texts are copies.
    copy_containment: share of the shorter text's shingles found in the longer one at or above
        which they are copies (a trimmed or padded reprint), provided the shorter text has at least
        `min_containment_shingles` shingles (so a one-line text is not a copy of everything).
    event_similarity: mean cosine of salient-term vectors (article against the event's members) at or
        above which an article joins an event.
    event_similarity_cjk: the same for Chinese, Japanese and Korean articles, whose segmented
        terms give other cosines than stemmed words (two reports of one meeting, the seeds, 0.27).
    event_similarity_short: for a headline-only article (fewer than `short_terms` salient terms),
        whose few terms make average linkage with long articles low, the cosine with the event's
        normalised centroid at or above which it joins.
    copy_term_candidates: besides LSH candidates, the articles sharing most salient terms with
        a new one that are verified as copies (a padded reprint's Jaccard is too low for LSH).
    max_candidates: the copy candidates verified, and the articles sharing most event terms
        looked at, per article.
    max_event_candidates: the events (of those articles, most shared terms first) an article is
        scored against; each costs a centroid read and a cosine, and the right event is nearly
        always among the first few.
    source_boilerplate_articles: an edge sentence of an article (first three, last five lines)
        seen in this many earlier articles of its source is that source's boilerplate and is
        removed from its later articles (0: no learning).
    event_window_days: an article dated more than this before or after the event's first
        publication does not join it (copies excepted; see `within_window`); undated articles are
        not held back.
    event_min_names: an article holding at least this many names (proper nouns not common in the
        language, `archive.core.anchors`) joins no event whose members hold as many and share none
        of them (0: off).
    event_min_names_cjk: the same for Chinese, Japanese and Korean articles, whose names come from
        a part-of-speech tagger rather than from capitals, so that one name is evidence enough.
    event_dateline_days: an article whose lead names its day (a Chinese or Japanese dateline,
        `archive.core.anchors.dateline_day`) joins no event whose members name days, none of
        them within this many days of it (-1: off).
    event_results: a Chinese or Japanese article stating a match result (`archive.core.anchors.
        match_results`) joins no event whose members state results, none of them its own; a match
        preview (`anchors.is_preview`) joins none whose members state a result, and a report
        stating a result none holding a preview.
    """

    copy_jaccard: float = 0.6
    copy_containment: float = 0.7
    min_containment_shingles: int = 30
    event_similarity: float = 0.3
    event_similarity_cjk: float = 0.25
    event_similarity_short: float = 0.2
    short_terms: int = 12
    event_window_days: float = 4.0
    max_candidates: int = 50
    max_event_candidates: int = 10
    copy_term_candidates: int = 5
    source_boilerplate_articles: int = 5
    event_min_names: int = 2
    event_min_names_cjk: int = 1
    event_dateline_days: int = 1
    event_results: bool = True

    def __post_init__(self) -> None:
        for name in ("copy_jaccard", "copy_containment", "event_similarity", "event_similarity_cjk",
                     "event_similarity_short"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if self.max_candidates < 1 or self.max_event_candidates < 1:
            raise ValueError("max_candidates and max_event_candidates must be at least 1")
        if self.event_window_days < 0:
            raise ValueError("event_window_days must not be negative")
        if self.event_min_names < 0 or self.event_min_names_cjk < 0:
            raise ValueError("event_min_names and event_min_names_cjk must not be negative")


@dataclasses.dataclass(frozen=True)
class Overlap:
    """Exact similarity of two shingle sets."""

    jaccard: float
    containment_ab: float  # share of a's shingles found in b
    containment_ba: float
    size_a: int
    size_b: int

    @property
    def containment(self) -> float:
        """Containment of the shorter text in the longer one."""
        return self.containment_ab if self.size_a <= self.size_b else self.containment_ba

    def as_dict(self) -> dict[str, float]:
        return {
            "jaccard": round(self.jaccard, 4),
            "containment": round(self.containment, 4),
            "containment_ab": round(self.containment_ab, 4),
            "containment_ba": round(self.containment_ba, 4),
        }


def overlap(a: np.ndarray, b: np.ndarray) -> Overlap:
    """Exact Jaccard and containment of two sorted distinct shingle-hash arrays."""
    if a.size == 0 or b.size == 0:
        return Overlap(0.0, 0.0, 0.0, int(a.size), int(b.size))
    inter = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - inter
    return Overlap(inter / union, inter / a.size, inter / b.size, int(a.size), int(b.size))


def is_copy(ov: Overlap, config: MatchingConfig) -> bool:
    if ov.jaccard >= config.copy_jaccard:
        return True
    shorter = min(ov.size_a, ov.size_b)
    return shorter >= config.min_containment_shingles and ov.containment >= config.copy_containment


def may_be_copy(sig_a: np.ndarray, size_a: int, sig_b: np.ndarray, size_b: int, config: MatchingConfig,
                z: float = 3.0) -> bool:
    """Whether two texts' MinHash signatures leave room for a copy; only then is the exact overlap
    worth computing (it needs both shingle sets, one of them rebuilt from stored text).

    The share of equal signature values estimates the Jaccard; its Wilson upper bound at `z`
    standard errors (3: wrong about one pair in a thousand that is exactly at the threshold) is
    compared with `copy_jaccard`, and, turned into the largest intersection it allows, with
    `copy_containment` of the shorter text (a padded reprint: low Jaccard, high containment).
    """
    k = len(sig_a)
    if k == 0 or k != len(sig_b):
        return True
    p = float(np.count_nonzero(sig_a == sig_b)) / k
    spread = z * np.sqrt(p * (1.0 - p) / k + z * z / (4.0 * k * k))
    upper = min(1.0, (p + z * z / (2.0 * k) + spread) / (1.0 + z * z / k))
    if upper >= config.copy_jaccard:
        return True
    shorter = min(size_a, size_b)
    if shorter < config.min_containment_shingles or shorter == 0:
        return False
    largest_intersection = upper / (1.0 + upper) * (size_a + size_b)
    return largest_intersection / shorter >= config.copy_containment


def copy_score(ov: Overlap) -> float:
    """One figure to rank copy matches: the larger of Jaccard and containment of the shorter."""
    return max(ov.jaccard, ov.containment)


CJK_LANGUAGES = anchors.CJK_LANGUAGES  # as `archive.core.normalize.detect_language` names them


def event_match(vector: dict[str, float], member_sum: dict[str, float], members: int,
                config: MatchingConfig, language: str | None = None) -> float | None:
    """The article's similarity to an event if it is high enough to join, else None.

    Average linkage (`events.event_score`) for articles; the centroid cosine for headline-only ones.
    An article whose anchors say it is another event (`anchor_conflicts`) does not join.
    """
    # Names are terms of the vector too, so a vector of twice `short_terms` entries is not short.
    cjk = language in CJK_LANGUAGES
    if len(vector) < 2 * config.short_terms and anchors.term_count(vector) < config.short_terms:
        score, needed = events.cosine(vector, events.normalised(member_sum)), config.event_similarity_short
    else:
        needed = config.event_similarity_cjk if cjk else config.event_similarity
        score = events.event_score(vector, member_sum, members)
    if score < needed or any(anchor_conflicts(vector, member_sum, config, language).values()):
        return None
    return score


def anchor_conflicts(vector: dict[str, float], member_sum: dict[str, float], config: MatchingConfig,
                     language: str | None = None) -> dict[str, bool]:
    """Which anchors (`archive.core.anchors`) say the article is another event than the members':
    names none of which it shares, dateline days apart (Chinese, Japanese, Korean), other match
    results or a preview against a result (the same)."""
    cjk = language in CJK_LANGUAGES
    min_names = config.event_min_names_cjk if cjk else config.event_min_names
    return {
        "names": anchors.conflict(vector, member_sum, min_names),
        "days": cjk and anchors.day_conflict(vector, member_sum, config.event_dateline_days),
        "results": cjk and config.event_results and anchors.result_conflict(vector, member_sum),
    }


def within_window(when: dt.datetime | None, first: dt.datetime | None, days: float) -> bool:
    """Whether an article published `when` may join an event first published `first`.

    The window is anchored on the event's first publication, not stretched by its latest member:
    a story covered every few days does not drift into one event for weeks, and a reprint months
    later (a copy joins whatever its date) does not reopen its original's event. Articles placed in
    date order are then all within `days` of one another; a backfill that places an earlier-dated
    article later can stretch an event to twice that. Undated articles are not held back.
    """
    if when is None or first is None:
        return True
    return abs(when - first) <= dt.timedelta(days=days)


@dataclasses.dataclass(frozen=True)
class Candidate:
    """What choosing an original looks at for one member of a copy cluster."""

    article_id: int
    published_at: dt.datetime | None
    fetched_at: dt.datetime
    attribution: str | None = None
    source: str | None = None
    canonical_url: str | None = None
    url: str | None = None


def choose_original(members: Sequence[Candidate]) -> tuple[int, str]:
    """The original of a copy cluster, and the reason, from the evidence the members carry.

    In order: a member whose URL is the canonical link another member names; the earliest
    publication time; a member whose source is the outlet another member credits (来源/转自/
    "originally published by"); else the earliest fetched.
    """
    if not members:
        raise ValueError("a copy cluster has at least one member")
    urls = {m.url: m for m in members if m.url}
    for m in members:
        if m.canonical_url and m.canonical_url in urls and urls[m.canonical_url].article_id != m.article_id:
            return urls[m.canonical_url].article_id, f"canonical link named by article {m.article_id}"
    dated = [m for m in members if m.published_at is not None]
    if dated:
        first = min(dated, key=lambda m: (m.published_at, m.article_id))
        return first.article_id, f"earliest published ({first.published_at:%Y-%m-%d %H:%M})"
    credited = {m.attribution for m in members if m.attribution}
    for m in sorted(members, key=lambda m: m.article_id):
        if m.source and m.source in credited and any(o.attribution == m.source for o in members if o is not m):
            return m.article_id, f"credited as the source by another copy ({m.source})"
    first = min(members, key=lambda m: (m.fetched_at, m.article_id))
    return first.article_id, "earliest fetched (no publication time known)"
