"""Event anchors: the names a text holds, which tell two events of one kind apart.

Two reports of one event name its protagonists; two events of one kind (two matches of a league,
two universities' brochures from one template, two earthquakes) share their vocabulary but not
their names. A name here is a salient term that is a proper noun and not common in its language:
in Chinese, a word jieba tags as a person, place, organisation or other proper noun (nr, ns, nt,
nz) with a zipf frequency of at most 3 (so 中国 and 上海 are not names); in Latin script, a word
capitalised inside a line with a zipf frequency of at most 2 (capitals also start common words
such as "Police" or "Navy").

Names ride in the event vector as pseudo-terms (`@name:` and the term) with a negligible weight,
so they are stored, summed into the event's centroid and replayed by recluster like terms without
moving a cosine.
"""

from __future__ import annotations

import functools

CJK_LANGUAGES = ("zh", "ja", "ko")  # as `archive.core.normalize.detect_language` names them

PREFIX = "@"
NAME_PREFIX = "@name:"
WEIGHT = 0.001
CJK_NAME_ZIPF = 3.0
LATIN_NAME_ZIPF = 2.0
EVENT_NAMES = 100  # names an event's centroid keeps: the most frequent among its members
_PROPER_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt", "nz"})


def is_anchor(term: str) -> bool:
    return term.startswith(PREFIX)


@functools.lru_cache(maxsize=1 << 16)
def _proper_noun(word: str) -> bool:
    """Whether jieba's part-of-speech tagger takes a Chinese word, alone, for a proper noun."""
    import rjieba

    tagged = rjieba.tag(word)
    return len(tagged) == 1 and tagged[0][1] in _PROPER_TAGS


def rare_names(text: str, vector: dict[str, float], language: str) -> set[str]:
    """The terms of an article's event vector that are names (see the module docstring).

    `language` is `archive.core.normalize.detect_language(text)`, which the caller has at hand.
    """
    from archive.core import events

    if language in CJK_LANGUAGES:
        words = [t for t in vector if not is_anchor(t) and _proper_noun(t)]
        return {t for t, idf in zip(words, events.idf_many(words, "zh")) if 9.0 - idf <= CJK_NAME_ZIPF}
    words = sorted(events.names(text))
    return ({events.stem(n) for n, idf in zip(words, events.idf_many(words, "en")) if 9.0 - idf <= LATIN_NAME_ZIPF}
            & vector.keys())


def term_count(vector: dict[str, float]) -> int:
    """The real terms of an event vector, anchors left out."""
    return len(vector) - sum(1 for t in vector if is_anchor(t))


def anchor_terms(text: str, vector: dict[str, float], language: str) -> dict[str, float]:
    """The pseudo-terms of the names an article's event vector holds."""
    return {f"{NAME_PREFIX}{n}": WEIGHT for n in rare_names(text, vector, language)}


def names_of(vector: dict[str, float]) -> set[str]:
    return {term[len(NAME_PREFIX):] for term in vector if term.startswith(NAME_PREFIX)}


def conflict(vector: dict[str, float], other: dict[str, float], min_names: int) -> bool:
    """Two events of one kind: both hold at least `min_names` names and share none (0: never)."""
    if min_names <= 0:
        return False
    mine = names_of(vector)
    if len(mine) < min_names:
        return False
    theirs = names_of(other)
    return len(theirs) >= min_names and not mine & theirs


def truncate(total: dict[str, float], limit: int) -> dict[str, float]:
    """A sum of vectors cut to its `limit` heaviest terms and its `EVENT_NAMES` most frequent names."""
    terms = sorted(((t, w) for t, w in total.items() if not is_anchor(t)), key=lambda kv: (-kv[1], kv[0]))
    names = sorted(((t, w) for t, w in total.items() if is_anchor(t)), key=lambda kv: (-kv[1], kv[0]))
    return dict(terms[:limit] + names[:EVENT_NAMES])
