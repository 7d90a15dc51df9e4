"""From an extracted article to everything matching needs: hashes, sketches, band keys, terms.

`fingerprint_batch` is the one implementation: it computes the MinHash signatures of a whole batch
with numpy at once (`archive.core.sketch.signatures_batch`, equal to datasketch's per-text result);
`fingerprint` is a batch of one.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import numpy as np

from archive.core import anchors, events, headline, sketch
from archive.core.normalize import canonical_text, detect_language, fold, is_cjk, tokens_of_folded
from archive.pipeline.extract import Extracted


@dataclasses.dataclass
class Fingerprint:
    text_hash: str
    language: str
    shingles: np.ndarray  # sorted distinct shingle hashes
    signature: np.ndarray
    event_terms: dict[str, float]
    copy_keys: list[tuple[int, int]]
    event_keys: list[tuple[int, int]]
    stray_body: bool = False  # the body carries none of its headline's words (`archive.core.headline`)


def text_hash(text: str) -> str:
    return hashlib.sha256(canonical_text(text).encode("utf-8")).hexdigest()


def fingerprint_batch(articles: Sequence[Extracted], copy_cfg: sketch.SketchConfig,
                      event_cfg: events.EventConfig) -> list[Fingerprint]:
    """Fingerprints of many articles, signatures computed for the whole batch at once."""
    texts = [a.text for a in articles]
    # Script, folded text and tokens once per text: shingles, exact hash, terms and language use them.
    scripts = [is_cjk(text) for text in texts]
    folded = [fold(text) for text in texts]
    token_lists = [tokens_of_folded(f) for f in folded]
    shingle_arrays = [sketch.shingle_hashes_from_tokens(toks, copy_cfg.cjk_ngram if cjk else copy_cfg.word_ngram)
                      for cjk, toks in zip(scripts, token_lists)]
    signatures = sketch.signatures_batch(shingle_arrays, copy_cfg)
    out = []
    for article, text, cjk, fold_, toks, shingles, signature in zip(
            articles, texts, scripts, folded, token_lists, shingle_arrays, signatures):
        stray = headline.stray_body(article.title, text, cjk, body_tokens=toks)
        # A given headline is then the only evidence of the story: its terms alone. (A first line
        # taken for the title of a plain text may be a lead sentence the body does not repeat.)
        title_only = stray and not article.title_from_text
        if title_only:
            vector = events.term_vector(article.title, "", event_cfg, cjk=cjk)
        else:
            vector = events.term_vector(article.title, text, event_cfg, folded=fold_, cjk=cjk, tokens=toks)
        language = detect_language(text, cjk)
        anchor_text = (article.title or "") if title_only else text
        out.append(Fingerprint(
            text_hash=hashlib.sha256(" ".join(toks).encode("utf-8")).hexdigest(),  # = text_hash(text)
            language=language,
            shingles=np.unique(shingles),
            signature=signature,
            event_terms={**vector, **anchors.anchor_terms(anchor_text, vector, language)},
            copy_keys=sketch.band_keys(signature, copy_cfg.bands, level=0),
            event_keys=events.index_keys(vector, event_cfg),
            stray_body=stray,
        ))
    return out


def fingerprint(article: Extracted, copy_cfg: sketch.SketchConfig, event_cfg: events.EventConfig) -> Fingerprint:
    return fingerprint_batch([article], copy_cfg, event_cfg)[0]
