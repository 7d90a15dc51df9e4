"""Calibrate the matching thresholds on a user's own labelled pairs of archived articles.

Labels use the eval format, one JSON object per line: `{"a": ..., "b": ..., "label": ...}` where
`a` and `b` are article ids or URLs and `label` is COPY, SAME_EVENT, RELATED or UNRELATED (or 1 /
0 for same event / not). Every pair is scored with the rules placement uses
(`archive.core.matching.is_copy` on the stored clean texts' shingles, `matching.event_match` on
the stored term vectors, an event of one member), precision and recall are reported for each
candidate threshold, and the threshold with the best F1 (or the lowest reaching a target
precision) is chosen.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.core import anchors, headline, matching, metrics, sketch
from archive.core.normalize import detect_language
from archive.db.models import Article
from archive.errors import BadInput

# label -> (same copy cluster, same event cluster); None: the label does not say
LABELS: dict[str, tuple[bool | None, bool]] = {
    "COPY": (True, True),
    "SAME_EVENT": (False, True),
    "RELATED": (False, False),
    "UNRELATED": (False, False),
    "1": (None, True),
    "0": (False, False),
}
COPY_GRID = [round(0.5 + 0.025 * i, 3) for i in range(19)]  # 0.5 .. 0.95
EVENT_GRID = [round(0.1 + 0.025 * i, 3) for i in range(21)]  # 0.1 .. 0.6
MIN_EACH = 3  # positives and negatives a threshold needs before it is chosen


@dataclasses.dataclass(frozen=True)
class LabelledPair:
    a: int | str
    b: int | str
    label: str
    line: int


def read_labels(path: Path) -> list[LabelledPair]:
    """The pairs of a labels file; a malformed line raises BadInput naming the file and line."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read labels file {path}: {exc}") from None
    pairs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            a, b, label = row["a"], row["b"], str(row["label"]).upper()
        except (ValueError, TypeError, KeyError) as exc:
            raise BadInput(f"{path}:{n}: expected {{\"a\", \"b\", \"label\"}}, got {line[:80]!r} ({exc})") from None
        if label in ("TRUE", "FALSE"):
            label = "1" if label == "TRUE" else "0"
        if label not in LABELS:
            raise BadInput(f"{path}:{n}: unknown label {label!r}; use one of {', '.join(LABELS)}")
        pairs.append(LabelledPair(a, b, label, n))
    if not pairs:
        raise BadInput(f"{path} holds no labelled pairs")
    return pairs


@dataclasses.dataclass
class Sweep:
    """Precision and recall of one threshold over a range of values, and the value chosen."""

    setting: str
    pairs: int
    positives: int
    rows: list[dict]
    chosen: float | None
    reason: str
    interval: dict | None = None  # bootstrap interval of the chosen threshold's figures (metrics.Interval)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Calibration:
    pairs: int
    missing: list[dict]
    sweeps: list[Sweep]

    @property
    def chosen(self) -> dict[str, float]:
        return {s.setting: s.chosen for s in self.sweeps if s.chosen is not None}

    def as_dict(self) -> dict:
        return {"pairs": self.pairs, "missing": self.missing, "chosen": self.chosen,
                "sweeps": [s.as_dict() for s in self.sweeps]}


@dataclasses.dataclass
class _Stored:
    shingles: object
    vector: dict[str, float]
    language: str
    title: str | None = None
    stray: bool = False  # the body carries none of its headline's words (archive.core.headline)


def _resolve(session: Session, refs: set[int | str]) -> dict[int | str, int]:
    """Article id for each reference (an id, a digit string, or a URL) found in the archive."""
    ids = {r for r in refs if isinstance(r, int) or (isinstance(r, str) and r.isdigit())}
    urls = {r for r in refs if r not in ids and isinstance(r, str)}
    found: dict[int | str, int] = {}
    wanted = {int(r): r for r in ids}
    for (article_id,) in session.execute(select(Article.id).where(Article.id.in_(list(wanted)))):
        found[wanted[article_id]] = article_id
    for article_id, url in session.execute(select(Article.id, Article.url).where(Article.url.in_(list(urls)))):
        found[url] = article_id
    return found


def _load(session: Session, settings: Settings, article_ids: set[int]) -> dict[int, _Stored]:
    rows = session.execute(
        select(Article.id, Article.clean_text, Article.event_terms, Article.language, Article.title)
        .where(Article.id.in_(list(article_ids)))
    )
    return {
        i: _Stored(sketch.shingle_set(text or "", settings.sketch), terms or {}, language or detect_language(text or ""),
                   title, headline.stray_body(title, text or ""))
        for i, text, terms, language, title in rows
    }


def _sweep(setting: str, grid: list[float], scored: list[tuple[Callable[[float], bool], bool]],
           target_precision: float | None, current: float) -> Sweep:
    """Each threshold's figures, and the one chosen with the interval its figures have over draws
    of the pairs; `scored` holds, per pair, "placed together at threshold t?" and the truth."""
    sweep = _choose(setting, grid, scored, target_precision, current)
    if sweep.chosen is not None:
        outcomes = [(together(sweep.chosen), positive) for together, positive in scored]
        sweep.interval = metrics.outcome_interval(outcomes).as_dict()
    return sweep


def _choose(setting: str, grid: list[float], scored: list[tuple[Callable[[float], bool], bool]],
            target_precision: float | None, current: float) -> Sweep:
    positives = sum(1 for _, positive in scored if positive)
    rows = []
    for t in grid:
        tp = sum(1 for together, positive in scored if positive and together(t))
        predicted = sum(1 for together, _ in scored if together(t))
        prf = metrics.PRF.from_counts(tp, predicted, positives)
        rows.append({"threshold": t, "precision": prf.precision, "recall": prf.recall, "f1": prf.f1,
                     "placed_together": predicted})
    if positives < MIN_EACH or len(scored) - positives < MIN_EACH:
        return Sweep(setting, len(scored), positives, rows, None,
                     f"needs at least {MIN_EACH} positive and {MIN_EACH} negative pairs")
    if target_precision is not None:
        reaching = [r for r in rows if r["precision"] >= target_precision and r["placed_together"]]
        if not reaching:
            return Sweep(setting, len(scored), positives, rows, None, f"no threshold reaches precision {target_precision}")
        best = max(reaching, key=lambda r: (r["recall"], -r["threshold"]))
        return Sweep(setting, len(scored), positives, rows, best["threshold"],
                     f"lowest threshold with precision >= {target_precision}")
    # among equally good thresholds, the one nearest the configured value: no move without evidence
    best = max(rows, key=lambda r: (r["f1"], r["precision"], -abs(r["threshold"] - current)))
    return Sweep(setting, len(scored), positives, rows, best["threshold"], "best F1")


def calibrate(session: Session, settings: Settings, pairs: list[LabelledPair],
              target_precision: float | None = None) -> Calibration:
    """Sweep copy_containment and the event thresholds (per script, headlines apart) over the pairs."""
    ids = _resolve(session, {p.a for p in pairs} | {p.b for p in pairs})
    missing = [{"line": p.line, "a": p.a, "b": p.b} for p in pairs if p.a not in ids or p.b not in ids]
    stored = _load(session, settings, set(ids.values()))
    config = settings.matching
    copy_scored: list = []
    event_scored: dict[str, list] = {}
    for p in pairs:
        if p.a not in ids or p.b not in ids:
            continue
        a, b = stored[ids[p.a]], stored[ids[p.b]]
        same_copy, same_event = LABELS[p.label]
        if same_copy is not None:
            ov = matching.overlap(a.shingles, b.shingles)
            barred = headline.bars_copy(a.title, a.stray, b.title, b.stray)  # placement's rule, at any threshold
            copy_scored.append((lambda t, ov=ov, barred=barred: not barred and matching.is_copy(
                ov, dataclasses.replace(config, copy_containment=t)), same_copy))
        if anchors.term_count(a.vector) < config.short_terms:
            setting = "event_similarity_short"
        elif a.language in matching.CJK_LANGUAGES:
            setting = "event_similarity_cjk"
        else:
            setting = "event_similarity"

        def together(t, a=a, b=b, setting=setting):
            return matching.event_match(a.vector, b.vector, 1, dataclasses.replace(config, **{setting: t}),
                                        language=a.language) is not None

        event_scored.setdefault(setting, []).append((together, same_event))
    sweeps = [_sweep("copy_containment", COPY_GRID, copy_scored, target_precision, config.copy_containment)]
    for setting in ("event_similarity", "event_similarity_cjk", "event_similarity_short"):
        if setting in event_scored:
            sweeps.append(_sweep(setting, EVENT_GRID, event_scored[setting], target_precision,
                                 getattr(config, setting)))
    return Calibration(len(pairs), missing, sweeps)
