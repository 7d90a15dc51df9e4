"""Per-source boilerplate in the ingest run: learned from earlier articles, removed from later ones.

Before a batch is placed, each article's edge sentences that its source has shown in at least
`source_boilerplate_articles` earlier articles are removed (kept in `articles.removed` with the
rule "source-boilerplate") and the article is fingerprinted again; after placement, the batch's
edge phrases are counted per source (`archive.db.phrases`). An article left with nothing but its
source's boilerplate is rejected with that reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy.orm import Session

from archive.config import Settings
from archive.core import boilerplate
from archive.db import phrases
from archive.pipeline.batch import Prepared
from archive.pipeline.fingerprint import fingerprint_batch
from archive.pipeline.loaders import Rejection
from archive.pipeline.store import source_name


class SourceBoilerplate:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.min_articles = settings.matching.source_boilerplate_articles

    def apply(self, session: Session, items: Sequence[Prepared | Rejection]) -> list[Prepared | Rejection]:
        """The items with learned boilerplate removed (re-fingerprinted where anything went)."""
        if self.min_articles <= 0:
            return list(items)
        names = {source_name(p.doc, p.extracted) for p in items if isinstance(p, Prepared)}
        learned = phrases.learned(session, [n for n in names if n], self.min_articles)
        out: list[Prepared | Rejection] = list(items)
        changed: list[tuple[int, Prepared]] = []
        for i, item in enumerate(items):
            if not isinstance(item, Prepared):
                continue
            known = learned.get(source_name(item.doc, item.extracted) or "", set())
            result = boilerplate.strip_learned(item.extracted.lines, known)
            if not result.removed:
                continue
            if not result.lines:
                out[i] = Rejection(item.doc.location, "no-text", "nothing is left but the source's learned boilerplate",
                                   item.sha256)
                continue
            ex = dataclasses.replace(item.extracted, lines=result.lines, removed=item.extracted.removed + result.removed)
            changed.append((i, dataclasses.replace(item, extracted=ex)))
        if changed:
            fps = fingerprint_batch([p.extracted for _, p in changed], self.settings.sketch, self.settings.event_sketch)
            for (i, p), fp in zip(changed, fps):
                out[i] = dataclasses.replace(p, fp=fp)
        return out

    def learn(self, session: Session, items: Sequence[Prepared]) -> None:
        """Count each article's edge phrases under its source (the articles already placed)."""
        if self.min_articles <= 0:
            return
        seen: dict[tuple[str, int], tuple[str, int]] = {}
        for item in items:
            name = source_name(item.doc, item.extracted)
            if not name:
                continue
            for key, phrase in boilerplate.edge_phrases(item.extracted.lines).items():
                _, n = seen.get((name, key), (phrase, 0))
                seen[(name, key)] = (phrase, n + 1)
        phrases.count(session, seen)
