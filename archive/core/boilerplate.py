"""Per-source boilerplate, pure: phrases at the edges of an article, keyed so they can be counted.

A line or sentence that recurs at the top or bottom of many articles of one source ("Copyright ©
Example News", "（本文来自某某网）", a subscription pitch) is that source's boilerplate. The
archive counts, per source, the articles each edge phrase appears in (`archive.db.phrases`) and
removes the phrases seen in enough earlier articles from the source's later ones. Only the first
`HEAD` and last `TAIL` lines are looked at: boilerplate sits there, and it bounds the cost.
"""

from __future__ import annotations

import functools
import re

import xxhash

from archive.core.clean import CleanResult, Removal
from archive.core.normalize import fold, is_cjk, squeeze_whitespace, tokens_of_folded

HEAD = 3
TAIL = 5
MIN_CHARS = 6
MAX_CHARS = 200
_SENTENCE_RE = re.compile(r"(?<=[。！？!?])|(?<=[.;；])\s+")


def _edge_indexes(count: int) -> list[int]:
    return sorted(set(range(min(HEAD, count))) | set(range(max(0, count - TAIL), count)))


def _segments(line: str) -> list[str]:
    """The line's sentences, whitespace squeezed."""
    return list(_sentences(line))


@functools.lru_cache(maxsize=256)
def _sentences(line: str) -> tuple[str, ...]:
    """`_segments`, remembered for the last lines: an article's edge lines are split to strip its
    source's learned boilerplate and again for its edge phrases."""
    # Squeezed once, the line holds single spaces only: a sentence needs just its ends stripped.
    return tuple(s for s in (p.strip() for p in _SENTENCE_RE.split(squeeze_whitespace(line))) if s)


def phrase_key(phrase: str) -> int | None:
    """Signed 64-bit key of a phrase's canonical tokens (width, case and script folded)."""
    return _key_of_folded(fold(phrase))


def _key_of_folded(folded: str) -> int | None:
    canonical = " ".join(tokens_of_folded(folded))
    if not canonical:
        return None
    digest = xxhash.xxh64_intdigest(canonical.encode("utf-8"), seed=7)
    return digest - (1 << 64) if digest >= (1 << 63) else digest


KNOWN_KEYS_LIMIT = 2_000  # phrases whose key a process remembers (well under a MB)
_known_keys: dict[str, int | None] = {}
_UNKNOWN = object()


def phrase_keys(phrases: list[str]) -> list[int | None]:
    """`phrase_key` of each phrase. The keys of the last KNOWN_KEYS_LIMIT or fewer phrases are
    remembered: an article's edge sentences are keyed to strip its source's learned boilerplate
    and then again for its edge phrases, and boilerplate sentences recur across a source's
    articles."""
    known = _known_keys
    found = [known.get(p, _UNKNOWN) for p in phrases]
    missing = list(dict.fromkeys(p for p, key in zip(phrases, found) if key is _UNKNOWN))
    if not missing:
        return found  # type: ignore[return-value]
    # Folded together: a phrase holds no line break, and folding (NFKC, case folding, the
    # character table) never joins or changes characters across one, so each part is the
    # phrase's own fold (checked by the count, folded one by one if ever not).
    folded = fold("\n".join(missing)).split("\n")
    if len(folded) != len(missing):
        folded = [fold(p) for p in missing]
    new = dict(zip(missing, map(_key_of_folded, folded)))
    if len(known) + len(new) > KNOWN_KEYS_LIMIT:
        known.clear()
    known.update(new)
    return [new[p] if key is _UNKNOWN else key for p, key in zip(phrases, found)]


def _edge_sentences(line: str) -> list[str]:
    """The line's sentences of a length boilerplate is looked for in."""
    return [s for s in _sentences(line) if MIN_CHARS <= len(s) <= MAX_CHARS]


def edge_phrases(lines: list[str]) -> dict[int, str]:
    """key -> phrase of the sentences in the article's edge lines, each once."""
    phrases = [s for i in _edge_indexes(len(lines)) for s in _edge_sentences(lines[i])]
    out: dict[int, str] = {}
    for phrase, key in zip(phrases, phrase_keys(phrases)):
        if key is not None:
            out.setdefault(key, phrase)
    return out


def strip_learned(lines: list[str], learned: set[int]) -> CleanResult:
    """Remove the edge sentences whose key is in `learned`; a line left empty goes."""
    if not learned:
        return CleanResult(list(lines), [])
    edges = _edge_indexes(len(lines))
    candidates = {i: _edge_sentences(lines[i]) for i in edges}
    wanted = [s for i in edges for s in candidates[i]]
    drops = {s for s, key in zip(wanted, phrase_keys(wanted)) if key in learned}
    kept, removed = [], []
    for i, line in enumerate(lines):
        drop = [s for s in candidates.get(i, ()) if s in drops]
        if drop:
            removed.extend(Removal("source-boilerplate", s) for s in drop)
            joiner = "" if is_cjk(line) else " "
            line = joiner.join(s for s in _sentences(line) if s not in drop)
        if line:
            kept.append(line)
    return CleanResult(kept, removed)
