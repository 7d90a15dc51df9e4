"""Per-source boilerplate in the ingest run: learned from earlier articles, removed from later ones.

The ingestor keeps what is learned so far (`snapshot`: source name -> keys of the phrases its
source has shown in at least `source_boilerplate_articles` articles) and hands it to the prepare
stage, which removes those edge sentences before fingerprinting (`archive.pipeline.batch`; kept
in `articles.removed` with the rule "source-boilerplate"). After each batch is placed, its edge
phrases are counted per source (`archive.db.phrases`) and the ones that reached the threshold
are added to the snapshot (the counting statement returns the batch's phrases' new counts, so
the cost per batch does not grow with what was learned), so learning takes effect from the next
batch on. A phrase's text is stored when it is learned: the many phrases seen once keep only
their key and count.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from archive.config import Settings
from archive.db import phrases
from archive.pipeline.batch import Learned, Prepared


class SourceBoilerplate:
    def __init__(self, settings: Settings):
        self.min_articles = settings.matching.source_boilerplate_articles
        self._learned: dict[str, set[int]] = {}

    def load(self, session: Session) -> None:
        """Read everything learned so far (at the start of a run)."""
        if self.min_articles > 0:
            self._learned = {k: v for k, v in phrases.learned(session, None, self.min_articles).items() if v}

    def snapshot(self) -> Learned:
        return self._learned

    def read_ahead(self, session: Session, items: Sequence[Prepared]) -> phrases.FoldedCounts | None:
        """The folded counts `learn` will need for these articles, read now (the read-ahead thread)."""
        if self.min_articles <= 0:
            return None
        return phrases.read_folded(session, {(item.source, key) for item in items if item.source
                                             for key in item.edge_phrases})

    def learn(self, session: Session, items: Sequence[Prepared],
              folded_ahead: phrases.FoldedCounts | None = None) -> None:
        """Count each placed article's edge phrases under its source; refresh those sources
        (`folded_ahead`: counts read beforehand by `read_ahead`)."""
        if self.min_articles <= 0 or not items:
            return
        seen: dict[tuple[str, int], tuple[str, int]] = {}
        for item in items:
            name = item.source
            if not name:
                continue
            for key, phrase in item.edge_phrases.items():  # found by the prepare stage
                _, n = seen.get((name, key), (phrase, 0))
                seen[(name, key)] = (phrase, n + 1)
        counts = phrases.count(session, seen, folded_ahead)
        new = [(name, key) for (name, key), n in counts.items()
               if n >= self.min_articles and key not in self._learned.get(name, ())]
        if new:
            phrases.describe(session, {pair: seen[pair][0] for pair in new})
            learned = dict(self._learned)  # a new mapping: snapshots already handed out stay as they were
            for name, key in new:
                learned[name] = learned.get(name, set()) | {key}
            self._learned = learned
