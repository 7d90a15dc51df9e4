"""How common a word is in a language: wordfreq's lists held as compact arrays.

wordfreq keeps each list in memory as Python strings (Chinese and English together take about
100 MB per process, in every preparing worker). Here a list becomes two numpy arrays, 64-bit
hashes of the words (sorted) and their zipf values, 12 bytes a word, and a whole text's terms
are looked up with one `searchsorted`. Numbers are weighed as wordfreq weighs them: the list's
frequency of the digits' shape ("0000") times wordfreq's own estimate for that number.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import xxhash

from archive.core import cache

UNKNOWN_ZIPF = 0.0
SEEN_LIMIT = 64_000  # words a table remembers the value of (about 7 MB in each worker)


class ZipfTable:
    """Zipf frequencies (log10 of occurrences per billion words) of one language's words.

    Building a table reads wordfreq's list as Python strings, and the memory they took is not
    given back to the system after they are dropped (about 25 MB in every process that builds
    one), so the arrays are built once in a child process and cached
    (`archive.core.cache.load_or_build`), and loaded from there after.
    """

    def __init__(self, lang: str, use_cache: bool = True):
        if use_cache:
            stored = cache.load_or_build(_cache_name(lang), build_arrays, lang, valid=_valid)
            self.keys, self.values = stored["keys"], stored["values"]
        else:
            self.keys, self.values = _build(lang)
        self._seen: dict[str, float] = {}

    def lookup(self, words: Sequence[str]) -> np.ndarray:
        """The list's zipf value of each word as written (UNKNOWN_ZIPF when absent)."""
        if not words or not self.keys.size:
            return np.full(len(words), UNKNOWN_ZIPF)
        wanted = np.fromiter((xxhash.xxh64_intdigest(w.encode("utf-8")) for w in words), dtype=np.uint64, count=len(words))
        at = np.minimum(np.searchsorted(self.keys, wanted), self.keys.size - 1)
        return np.where(self.keys[at] == wanted, self.values[at].astype(np.float64), UNKNOWN_ZIPF)

    def zipf(self, words: Sequence[str]) -> list[float]:
        """Zipf values of folded words, numbers included (see the module docstring).

        Words already looked up are answered from a dictionary (a text's words are mostly the
        language's common ones, so most are): hashing and searching each word again cost about
        a third of an article's term weighting. The dictionary is emptied when it reaches
        SEEN_LIMIT words, so its memory stays bounded however many names and numbers pass.
        """
        seen = self._seen
        found = list(map(seen.get, words))
        if None not in found:
            return found
        missing = list({w for w, z in zip(words, found) if z is None})
        if len(seen) + len(missing) > SEEN_LIMIT:
            seen.clear()
        seen.update(zip(missing, self._zipf_uncached(missing)))
        return [seen[w] if z is None else z for w, z in zip(words, found)]

    def _zipf_uncached(self, words: Sequence[str]) -> list[float]:
        from wordfreq.numbers import digit_freq, has_digit_sequence, smash_numbers

        numeric = [i for i, w in enumerate(words) if has_digit_sequence(w)]
        shapes = list(words)
        for i in numeric:
            shapes[i] = smash_numbers(words[i])
        found = self.lookup(shapes).tolist()
        for i in numeric:
            if found[i] != UNKNOWN_ZIPF:
                freq = 10.0 ** (found[i] - 9.0) * digit_freq(words[i])
                found[i] = max(math.log10(freq) + 9.0, UNKNOWN_ZIPF) if freq > 0 else UNKNOWN_ZIPF
        return found


def _build(lang: str) -> tuple[np.ndarray, np.ndarray]:
    from wordfreq import get_frequency_list

    buckets = get_frequency_list(lang, "best")  # bucket i holds the words at -i centibels
    hashes = np.fromiter((xxhash.xxh64_intdigest(w.encode("utf-8")) for bucket in buckets for w in bucket), dtype=np.uint64)
    values = np.concatenate([np.full(len(bucket), 9.0 - i / 100.0, dtype=np.float32)
                             for i, bucket in enumerate(buckets)] or [np.zeros(0, np.float32)])
    order = np.argsort(hashes, kind="stable")
    get_frequency_list.cache_clear()  # the strings are not needed any more
    return hashes[order], values[order]


def _cache_name(lang: str) -> str:
    from importlib.metadata import version

    return f"zipf-{lang}-wordfreq-{version('wordfreq')}"


def build_arrays(lang: str) -> dict[str, np.ndarray]:
    keys, values = _build(lang)
    return {"keys": keys, "values": values}


def _valid(stored: dict[str, np.ndarray]) -> bool:
    return (set(stored) == {"keys", "values"} and stored["keys"].dtype == np.uint64
            and stored["values"].dtype == np.float32 and stored["keys"].shape == stored["values"].shape)


@functools.cache
def table(lang: str) -> ZipfTable:
    return ZipfTable(lang)
