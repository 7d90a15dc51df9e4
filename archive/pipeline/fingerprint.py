"""From an extracted article to everything matching needs: hashes, sketches, band keys, terms."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from archive.core import events, sketch
from archive.core.normalize import canonical_text, detect_language
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


def text_hash(text: str) -> str:
    return hashlib.sha256(canonical_text(text).encode("utf-8")).hexdigest()


def fingerprint(article: Extracted, copy_cfg: sketch.SketchConfig, event_cfg: events.EventConfig) -> Fingerprint:
    text = article.text
    shingle_array = sketch.shingle_hashes(text, copy_cfg)
    signature = sketch.signature(shingle_array, copy_cfg)
    vector = events.term_vector(article.title, text, event_cfg)
    return Fingerprint(
        text_hash=text_hash(text),
        language=detect_language(text),
        shingles=np.unique(shingle_array),
        signature=signature,
        event_terms=vector,
        copy_keys=sketch.band_keys(signature, copy_cfg.bands, level=0),
        event_keys=events.index_keys(vector, event_cfg),
    )
