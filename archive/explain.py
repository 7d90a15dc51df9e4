"""Why two articles match (or not): similarity figures and the passages they share.

Passages come from shingle alignment: a token of one text is shared when it lies in a shingle
(the same n-gram the fingerprints use) that the other text also contains; maximal runs of shared
tokens are the passages, with offsets into each original text so a terminal can highlight them.
Linear in the texts' lengths, and it finds passages even when paragraphs were moved.
"""

from __future__ import annotations

import dataclasses

from archive.core import anchors, events, headline, matching, sketch
from archive.core.normalize import detect_language, is_cjk, token_spans
from archive.core.sketch import SketchConfig

MIN_PASSAGE_TOKENS = {True: 8, False: 5}  # CJK characters, other-script words


@dataclasses.dataclass(frozen=True)
class Passage:
    start: int
    end: int
    text: str

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}


def shared_passages(text: str, other: str, config: SketchConfig) -> list[Passage]:
    """Passages of `text` (offsets into `text`) whose shingles also occur in `other`."""
    cjk = is_cjk(text)
    n = config.cjk_ngram if cjk else config.word_ngram
    spans = token_spans(text)
    other_tokens = [t for _, _, t in token_spans(other)]
    other_shingles = {tuple(other_tokens[i:i + n]) for i in range(max(len(other_tokens) - n + 1, 0))}
    covered = [False] * len(spans)
    tokens = [t for _, _, t in spans]
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i:i + n]) in other_shingles:
            for k in range(i, i + n):
                covered[k] = True
    passages, i = [], 0
    while i < len(spans):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(spans) and covered[j + 1]:
            j += 1
        if j - i + 1 >= MIN_PASSAGE_TOKENS[cjk]:
            start, end = spans[i][0], spans[j][1]
            passages.append(Passage(start, end, text[start:end]))
        i = j + 1
    return passages


def shared_share(text: str, passages: list[Passage]) -> float:
    """The share of a text's characters inside shared passages."""
    if not text:
        return 0.0
    return round(sum(p.end - p.start for p in passages) / len(text), 4)


@dataclasses.dataclass(frozen=True)
class Side:
    """What comparing needs of one article."""

    text: str
    signature: bytes
    event_terms: dict[str, float]
    title: str | None = None


def compare(a: Side, b: Side, sketch_config: SketchConfig, matching_config: matching.MatchingConfig) -> dict:
    """Estimated and exact similarity, containment both ways, event cosine, verdicts, passages."""
    ov = matching.overlap(sketch.shingle_set(a.text, sketch_config), sketch.shingle_set(b.text, sketch_config))
    estimated = sketch.estimated_jaccard(sketch.signature_from_bytes(a.signature),
                                         sketch.signature_from_bytes(b.signature))
    terms_a, terms_b = a.event_terms or {}, b.event_terms or {}
    cosine = events.cosine(terms_a, terms_b)
    in_a, in_b = shared_passages(a.text, b.text, sketch_config), shared_passages(b.text, a.text, sketch_config)
    shared_terms = sorted((t for t in set(terms_a) & set(terms_b) if not anchors.is_anchor(t)),
                          key=lambda t: -(terms_a[t] * terms_b[t]))
    language = detect_language(a.text)
    conflicts = matching.anchor_conflicts(terms_a, terms_b, matching_config, language)
    stray = [headline.stray_body(a.title, a.text), headline.stray_body(b.title, b.text)]
    barred = headline.bars_copy(a.title, stray[0], b.title, stray[1])
    return {
        "estimated_jaccard": round(estimated, 4),
        "jaccard": round(ov.jaccard, 4),
        "containment_a_in_b": round(ov.containment_ab, 4),
        "containment_b_in_a": round(ov.containment_ba, 4),
        "shingles": [ov.size_a, ov.size_b],
        "event_cosine": round(cosine, 4),
        "copy": matching.is_copy(ov, matching_config) and not barred,
        # Bodies that carry none of their headline's words, and whether that bars a copy
        # (archive.core.headline): then the headlines tell the stories apart.
        "stray_body": stray,
        "headline_bars_copy": barred,
        # The placement rule itself, with B as a one-article event: what ingest would decide on terms.
        "same_event_terms": matching.event_match(terms_a, terms_b, 1, matching_config, language=language) is not None,
        "thresholds": {"copy_jaccard": matching_config.copy_jaccard,
                       "copy_containment": matching_config.copy_containment,
                       "event_similarity": matching_config.event_similarity,
                       "event_similarity_cjk": matching_config.event_similarity_cjk},
        "shared_terms": shared_terms[:15],
        # The anchors that keep two events of one kind apart (archive.core.anchors).
        "names": [sorted(anchors.names_of(terms_a)), sorted(anchors.names_of(terms_b))],
        "names_conflict": conflicts["names"],
        "days": [sorted(anchors.days_of(terms_a)), sorted(anchors.days_of(terms_b))],
        "days_conflict": conflicts["days"],
        "results": [sorted(anchors.results_of(terms_a)), sorted(anchors.results_of(terms_b))],
        "preview": [anchors.PREVIEW_TERM in terms_a, anchors.PREVIEW_TERM in terms_b],
        "results_conflict": conflicts["results"],
        "passages_a": [p.as_dict() for p in in_a],
        "passages_b": [p.as_dict() for p in in_b],
        "shared_share_a": shared_share(a.text, in_a),
        "shared_share_b": shared_share(b.text, in_b),
    }
