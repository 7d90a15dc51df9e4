"""Event-level representation: salient terms weighted by how rare they are in the language.

An article's event vector holds its most salient terms (sub-linear term frequency times a static
inverse document frequency taken from wordfreq's word frequencies, so the weights do not depend on
what the archive happened to ingest first). Title terms count double; names (words capitalised
inside a sentence) and numbers weigh more, since two reports of one incident share its names and
figures while two incidents of one kind share only its vocabulary. Chinese is segmented as jieba
does it (jieba-rs); English words are reduced to their Snowball stems, so "pirates" and "pirate" match.

An article joins an event by average linkage: its mean cosine with the event's members, computed
from the running sum of member vectors (the mean of unit vectors' cosines is the cosine with their
sum divided by their count), so one bridging article cannot pull two events together.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import json
import math
import re
import threading
from collections import Counter

import xxhash

from archive.core import anchors, frequencies
from archive.core.normalize import fold, is_cjk, tokens_of_folded

_NAME_RE = re.compile(r"\b[A-Z][a-z]+\b")
_MAX_ZIPF = 9.0
# Terms this frequent (zipf >= 5.5: "said", "year", "会议") carry no event information.
_COMMON_ZIPF = 5.5


@dataclasses.dataclass(frozen=True)
class EventConfig:
    """Parameters of the event-level sketch and similarity. Changing them needs a recluster."""

    top_terms: int = 60
    index_terms: int = 12
    bucket_limit: int = 100
    title_weight: float = 2.0
    name_weight: float = 2.0
    number_weight: float = 1.5
    centroid_terms: int = 200
    stemmer: str = "snowball-english"

    # Bounds on the work per article and the state per event: changing them changes no stored
    # vector or index key, so an archive accepts new values for them.
    BOUNDS = ("bucket_limit", "centroid_terms")

    def identity(self) -> dict:
        """The parameters stored vectors and index keys depend on."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in self.BOUNDS}

    def to_json(self) -> str:
        return json.dumps(self.identity(), sort_keys=True)

    def same_vectors(self, stored_json: str) -> bool:
        """Whether vectors recorded with `stored_json` (`to_json` of any version) match these."""
        stored = {k: v for k, v in json.loads(stored_json).items() if k not in self.BOUNDS}
        return stored == self.identity()


def idf_many(words: list[str], lang: str) -> list[float]:
    """Static inverse document frequencies in log10 units: 9 - zipf frequency (unknown words: 9).

    In Chinese text, words absent from the Chinese list that are not Chinese (Latin words) are
    looked up in the English one; unknown Chinese words (mostly names) weigh the most.
    """
    if lang != "zh":
        return [_MAX_ZIPF - z for z in frequencies.table("en").zipf(words)]
    zipfs = frequencies.table("zh").zipf(words)
    latin = [i for i, (w, z) in enumerate(zip(words, zipfs))
             if z == frequencies.UNKNOWN_ZIPF and not _HAN_RUN_RE.search(w)]
    if latin:
        for i, z in zip(latin, frequencies.table("en").zipf([words[i] for i in latin])):
            zipfs[i] = z
    return [_MAX_ZIPF - z for z in zipfs]


def idf(word: str, lang: str) -> float:
    return idf_many([word], lang)[0]


_per_thread = threading.local()


def _snowball():
    """This thread's English stemmer: PyStemmer's objects (which snowballstemmer hands out when
    installed) must not be shared between threads, and scheduler jobs run in threads."""
    stemmer = getattr(_per_thread, "stemmer", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _per_thread.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@functools.lru_cache(maxsize=1 << 15)
def stem(word: str) -> str:
    """The Snowball stem of a folded non-CJK word (CJK words are returned as they are)."""
    return _snowball().stemWord(word) if word.isascii() and word.isalpha() else word


_HAN_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD_RE = re.compile(r"\w", re.UNICODE)


@functools.cache
def _segmenter():
    """jieba-rs through rjieba: jieba's dictionary and algorithm (DAG route, HMM for unknown words
    such as names) at a few hundredths of a microsecond per character, where the Python jieba
    took about thirty."""
    import rjieba

    return rjieba


def _cjk_terms(folded: str) -> list[str]:
    """The words of two or more characters that jieba's accurate mode (HMM on) makes of a text."""
    return [w for w in _segmenter().cut(folded) if len(w) >= 2 and (w.isalnum() or _WORD_RE.search(w))]


def terms(text: str, folded: str | None = None, cjk: bool | None = None,
          tokens: list[str] | None = None) -> list[str]:
    """Content words of a text, folded (NFKC, case, traditional to simplified); `folded`, `cjk` and
    `tokens` are `fold(text)`, `is_cjk(text)` and `tokens_of_folded(folded)` when the caller has
    them already."""
    folded = fold(text) if folded is None else folded
    if is_cjk(folded) if cjk is None else cjk:
        return _cjk_terms(folded)
    toks = tokens_of_folded(folded) if tokens is None else tokens
    return [t for t in toks if len(t) >= 3 or (t.isdigit() and len(t) >= 2)]


@functools.lru_cache(maxsize=4)
def names(text: str) -> frozenset[str]:
    """Folded words written with a capital inside a line (not at its start): names, mostly.

    Remembered for the last few texts: an article's term vector and its anchors both ask. The
    words are ASCII letters, whose fold is their lower case.
    """
    return frozenset(m.group(0).lower() for m in _NAME_RE.finditer(text)
                     if m.start() > 0 and text[m.start() - 1] not in _LINE_BREAKS)


# What str.splitlines() splits on: a name right after one of these starts its line.
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def term_vector(title: str | None, text: str, config: EventConfig, folded: str | None = None,
                cjk: bool | None = None, tokens: list[str] | None = None) -> dict[str, float]:
    """The top salient terms with L2-normalised tf-idf weights (stems for non-CJK text); `folded`,
    `cjk` and `tokens` as for `terms`."""
    cjk = is_cjk(text) if cjk is None else cjk
    lang = "zh" if cjk else "en"
    counts = Counter(terms(text, folded, cjk, tokens))
    for t in terms(title or ""):
        counts[t] += config.title_weight
    weights: dict[str, float] = {}
    log = math.log
    weighed = ((term, tf, w_idf) for (term, tf), w_idf in zip(counts.items(), idf_many(list(counts), lang))
               if _MAX_ZIPF - w_idf < _COMMON_ZIPF)
    if lang == "zh":
        for term, tf, w_idf in weighed:
            weights[term] = (1.0 + log(tf)) * w_idf * (config.number_weight if term.isdigit() else 1.0)
    else:
        named = names(text)
        for term, tf, w_idf in weighed:
            weight = (1.0 + log(tf)) * w_idf
            if term in named:
                weight *= config.name_weight
            elif term.isdigit():
                weight *= config.number_weight
            term = stem(term)
            if weights.get(term, 0.0) < weight:
                weights[term] = weight
    top = _heaviest(weights, config.top_terms)
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {term: round(w / norm, 5) for term, w in top}


def _heaviest(weights: dict[str, float], limit: int) -> list[tuple[str, float]]:
    """The `limit` heaviest (term, weight) pairs, heaviest first, ties in term order.

    Only the pairs at least as heavy as the `limit`-th weight are sorted with a key function: an
    article has a few hundred terms and keeps 60."""
    if len(weights) > limit:
        cut = heapq.nlargest(limit, weights.values())[-1]
        pairs = [(t, w) for t, w in weights.items() if w >= cut]
    else:
        pairs = list(weights.items())
    pairs.sort(key=_heaviest_first)
    return pairs[:limit]


def _heaviest_first(pair: tuple[str, float]) -> tuple[float, str]:
    return -pair[1], pair[0]


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
    top = _heaviest({t: w for t, w in vector.items() if not anchors.is_anchor(t)}, config.index_terms)
    keys = []
    for term, _ in top:
        digest = xxhash.xxh64_intdigest(term.encode("utf-8"), seed=1)
        keys.append((0, digest - (1 << 64) if digest >= (1 << 63) else digest))
    return keys


def add_to_sum(total: dict[str, float], vector: dict[str, float], limit: int) -> dict[str, float]:
    """The running sum of an event's member vectors, truncated to its `limit` heaviest terms (and names)."""
    out = dict(total)
    for term, weight in vector.items():
        out[term] = round(out.get(term, 0.0) + weight, 5)
    if len(out) > limit:
        out = anchors.truncate(out, limit)
    return out


def normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {t: w / norm for t, w in vector.items()}


def event_score(vector: dict[str, float], member_sum: dict[str, float], members: int) -> float:
    """Average linkage: the mean cosine of `vector` with the event's members, from their sum."""
    return cosine(vector, member_sum) / max(members, 1)


def centroid(vectors: list[dict[str, float]], limit: int = 100) -> dict[str, float]:
    """Mean of member vectors, truncated to the `limit` heaviest terms and L2-normalised."""
    total: Counter = Counter()
    for v in vectors:
        total.update(v)
    top = total.most_common(limit)
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: round(w / norm, 5) for t, w in top}
