"""Event-level representation: salient terms weighted by how rare they are in the language.

An article's event vector holds its most salient terms (sub-linear term frequency times a static
inverse document frequency taken from wordfreq's word frequencies, so the weights do not depend on
what the archive happened to ingest first). Title terms count double. Chinese, Japanese and Korean
text is segmented with jieba (Chinese) or wordfreq's tokenizer; other scripts use the canonical
word tokens. Two write-ups of one event share their rare terms (names, places, figures), which a
character n-gram Jaccard misses.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import re
from collections import Counter

import xxhash

from archive.core.normalize import fold, is_cjk, tokens

_WORD_RE = re.compile(r"\w", re.UNICODE)
_MAX_ZIPF = 9.0
# Terms this frequent (zipf >= 5.5: "said", "year", "会议") carry no event information.
_COMMON_ZIPF = 5.5


@dataclasses.dataclass(frozen=True)
class EventConfig:
    """Parameters of the event-level sketch and similarity. Changing them needs a recluster."""

    top_terms: int = 40
    index_terms: int = 12
    bucket_limit: int = 200
    title_weight: float = 2.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


@functools.cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


@functools.lru_cache(maxsize=1 << 17)
def idf(term: str, lang: str) -> float:
    """Static inverse document frequency in log10 units: 9 - zipf frequency (unknown words: 9)."""
    from wordfreq import zipf_frequency

    return _MAX_ZIPF - zipf_frequency(term, lang, wordlist="best")


def terms(text: str) -> list[str]:
    """Content words of a text, folded (NFKC, case, traditional to simplified)."""
    folded = fold(text)
    if is_cjk(folded):
        words = _jieba().lcut(folded)
        return [w for w in words if len(w) >= 2 and _WORD_RE.search(w)]
    return [t for t in tokens(folded) if len(t) >= 3 or (t.isdigit() and len(t) >= 2)]


def term_vector(title: str | None, text: str, config: EventConfig) -> dict[str, float]:
    """The top salient terms with L2-normalised tf-idf weights."""
    lang = "zh" if is_cjk(text) else "en"
    counts = Counter(terms(text))
    for t in terms(title or ""):
        counts[t] += config.title_weight
    weights = {}
    for term, tf in counts.items():
        w_idf = idf(term, lang)
        if _MAX_ZIPF - w_idf >= _COMMON_ZIPF:
            continue
        weights[term] = (1.0 + math.log(tf)) * w_idf
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[: config.top_terms]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {term: round(w / norm, 5) for term, w in top}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def index_keys(vector: dict[str, float], config: EventConfig) -> list[tuple[int, int]]:
    """(0, key) rows of the event index: signed xxh64 of the `index_terms` most salient terms.

    The event level is an inverted index of salient terms rather than a MinHash LSH: two write-ups
    of one event share few of their top terms (the seeds share 2 of their top 16), which a sampled
    sketch misses a third of the time. Each term's postings are read newest first and capped at
    `bucket_limit`, so the cost per article stays flat as the archive grows.
    """
    top = sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[: config.index_terms]
    keys = []
    for term, _ in top:
        digest = xxhash.xxh64_intdigest(term.encode("utf-8"), seed=1)
        keys.append((0, digest - (1 << 64) if digest >= (1 << 63) else digest))
    return keys


def centroid(vectors: list[dict[str, float]], limit: int = 100) -> dict[str, float]:
    """Mean of member vectors, truncated to the `limit` heaviest terms and L2-normalised."""
    total: Counter = Counter()
    for v in vectors:
        total.update(v)
    top = total.most_common(limit)
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: round(w / norm, 5) for t, w in top}
