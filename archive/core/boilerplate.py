"""Per-source boilerplate, pure: phrases at the edges of an article, keyed so they can be counted.

A line or sentence that recurs at the top or bottom of many articles of one source ("Copyright ©
Example News", "（本文来自某某网）", a subscription pitch) is that source's boilerplate. The
archive counts, per source, the articles each edge phrase appears in (`archive.db.phrases`) and
removes the phrases seen in enough earlier articles from the source's later ones. Only the first
`HEAD` and last `TAIL` lines are looked at: boilerplate sits there, and it bounds the cost.
"""

from __future__ import annotations

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
    # Squeezed once, the line holds single spaces only: a sentence needs just its ends stripped.
    return [s for s in (p.strip() for p in _SENTENCE_RE.split(squeeze_whitespace(line))) if s]


def phrase_key(phrase: str) -> int | None:
    """Signed 64-bit key of a phrase's canonical tokens (width, case and script folded)."""
    return _key_of_folded(fold(phrase))


def _key_of_folded(folded: str) -> int | None:
    canonical = " ".join(tokens_of_folded(folded))
    if not canonical:
        return None
    digest = xxhash.xxh64_intdigest(canonical.encode("utf-8"), seed=7)
    return digest - (1 << 64) if digest >= (1 << 63) else digest


def edge_phrases(lines: list[str]) -> dict[int, str]:
    """key -> phrase of the sentences in the article's edge lines, each once."""
    phrases = [segment for i in _edge_indexes(len(lines)) for segment in _segments(lines[i])
               if MIN_CHARS <= len(segment) <= MAX_CHARS]
    # Folded together: a segment holds no line break, and folding (NFKC, case folding, the
    # character table) never joins or changes characters across one, so each part is the
    # segment's own fold (checked by the count, folded one by one if ever not).
    folded = fold("\n".join(phrases)).split("\n") if phrases else []
    if len(folded) != len(phrases):
        folded = [fold(p) for p in phrases]
    out: dict[int, str] = {}
    for segment, folded_segment in zip(phrases, folded):
        key = _key_of_folded(folded_segment)
        if key is not None:
            out.setdefault(key, segment)
    return out


def strip_learned(lines: list[str], learned: set[int]) -> CleanResult:
    """Remove the edge sentences whose key is in `learned`; a line left empty goes."""
    if not learned:
        return CleanResult(list(lines), [])
    edges = set(_edge_indexes(len(lines)))
    kept, removed = [], []
    for i, line in enumerate(lines):
        if i in edges:
            segments = _segments(line)
            drop = [s for s in segments if MIN_CHARS <= len(s) <= MAX_CHARS and phrase_key(s) in learned]
            if drop:
                removed.extend(Removal("source-boilerplate", s) for s in drop)
                joiner = "" if is_cjk(line) else " "
                line = joiner.join(s for s in segments if s not in drop)
        if line:
            kept.append(line)
    return CleanResult(kept, removed)
