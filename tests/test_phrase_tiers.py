"""Counts of sources' edge phrases in two tiers on SQLite (`archive.db.phrases`): folds during a
run and at its end give the counts, the learned phrases and the cleaned texts of counting
straight into `source_phrases`; counts a killed run left in the recent tier are read and folded
by the next run; a fold that cannot take the lock is left for later."""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import sessionmaker

from archive.api import Archive
from archive.config import load_settings
from archive.core.boilerplate import phrase_key
from archive.db import phrases
from archive.db.models import Source, SourcePhrase
from tests import runs
from tests.test_batch import documents
from tests.test_quality_boilerplate import FOOTER, HEADER, story


def _archive(url: str) -> Archive:
    # Batches of two, a commit each: folds are checked after every batch.
    settings = dataclasses.replace(load_settings({"ARCHIVE_DATABASE_URL": url}), batch_size=2, commit_size=0)
    archive = Archive(settings)
    archive.upgrade()
    return archive


def _records() -> list[dict]:
    return [story(n, source) for n in range(12) for source in ("kelmor-daily.example", "other.example")]


def _state(archive: Archive) -> tuple[dict, dict, int]:
    """Stored counts and texts of phrases, each article's clean text, rows left in the recent tier."""
    with archive.session() as session:
        counts = {(name, key): (n, phrase) for name, key, n, phrase in session.execute(
            select(Source.name, SourcePhrase.phrase_hash, SourcePhrase.count, SourcePhrase.phrase).join(Source))}
        texts = dict(session.execute(text("SELECT url, clean_text FROM articles")).all())
        recent = session.execute(text("SELECT count(*) FROM source_phrases_recent")).scalar_one()
    return counts, texts, recent


def test_folds_during_and_after_a_run_count_and_clean_as_one_tier(db_url, tmp_path, monkeypatch):
    docs = documents(_records())
    with _archive(f"sqlite:///{tmp_path / 'never-folded-mid-run.db'}") as archive:
        archive.ingest_documents(docs)
        expected = _state(archive)
    counts, texts, recent = expected
    assert recent == 0, "a run ends with every count in source_phrases"
    learned_at, header = counts[("kelmor-daily.example", phrase_key(HEADER))]
    assert 5 <= learned_at < 12 and header == HEADER, "counted until learned, then removed before counting"
    assert sum(HEADER in t for t in texts.values()) < len(texts) == 24, "learned and removed from later articles"

    monkeypatch.setattr(phrases, "RECENT_ROWS", 10)  # a fold after nearly every batch
    with _archive(db_url) as archive:
        summary = archive.ingest_documents(docs)
        assert _state(archive) == expected
        if archive.engine.dialect.name == "sqlite":
            assert summary.timings.get("phrase fold", 0) > 0


def test_counts_left_in_the_recent_tier_are_read_then_folded_by_the_next_run(sqlite_url):
    """A run killed between a commit and its fold leaves counts in the recent tier, committed with
    their articles: the next run learns from them and folds them."""
    footer = FOOTER.split(". ")[0] + "."
    key = phrase_key(footer)
    with _archive(sqlite_url) as archive:
        with archive.session() as session:
            session.add(Source(name="kelmor-daily.example", kind="web"))
            session.flush()
            phrases.count(session, {("kelmor-daily.example", key): (footer, 5)})  # as 5 earlier articles did
            phrases.describe(session, {("kelmor-daily.example", key): footer})  # learned by them
            session.commit()
        counts, _, recent = _state(archive)
        assert (counts, recent) == ({}, 1)
        archive.ingest_documents(documents([story(40, "kelmor-daily.example")]))
        counts, texts, recent = _state(archive)
    assert recent == 0
    assert counts[("kelmor-daily.example", key)] == (5, footer), "learned before this run: removed, not counted again"
    assert "Kelmor Daily News" not in next(iter(texts.values()))


def test_a_fold_that_cannot_take_the_lock_is_left_for_later(sqlite_url, caplog):
    with _archive(sqlite_url) as archive:
        with archive.session() as session:
            session.add(Source(name="a.example", kind="web"))
            session.flush()
            phrases.count(session, {("a.example", 1): ("one", 2), ("a.example", 2): ("two", 1)})
            session.commit()
    impatient = sessionmaker(create_engine(sqlite_url, connect_args={"timeout": 0.1}))
    with runs.sqlite_writer_holding_the_lock(sqlite_url):
        with caplog.at_level(logging.WARNING, logger="archive.db.phrases"):
            assert phrases.fold_if_due(impatient, 1) == 0
        assert "not folded" in caplog.text
    assert phrases.fold_if_due(impatient, 3) == 0, "not due: fewer rows than the limit"
    assert phrases.fold_if_due(impatient, 1) == 2
    with impatient() as session:
        assert phrases.learned(session, None, 2) == {"a.example": {1}}
        assert session.execute(text("SELECT count(*) FROM source_phrases_recent")).scalar_one() == 0
    impatient.kw["bind"].dispose()


def test_folded_counts_read_ahead_are_used_until_a_fold_comes_between(sqlite_url, monkeypatch):
    """The read-ahead thread reads a batch's folded counts in an earlier snapshot: the writer uses
    them while no fold came between, reads again after one, and reads pairs it was not given."""
    asked: list[list] = []
    reading = phrases.bulk.phrase_counts
    monkeypatch.setattr(phrases.bulk, "phrase_counts", lambda session, pairs: asked.append(list(pairs))
                        or reading(session, pairs))
    with _archive(sqlite_url) as archive:
        with archive.session() as session, session.begin():
            session.add_all([Source(name="a.example", kind="web"), Source(name="b.example", kind="web")])
            session.flush()
            phrases.count(session, {("a.example", 1): ("one", 2), ("a.example", 2): ("two", 1)})
            phrases.fold(session)
        with archive.session() as session:
            ahead = phrases.read_folded(session, {("a.example", 1), ("a.example", 3), ("c.example", 1)})
        assert (ahead.generation, ahead.counts) == ("1", {(1, 1): 2}), "sources not stored are left out"

        asked.clear()
        with archive.session() as session, session.begin():
            counts = phrases.count(session, {("a.example", 1): ("one", 1), ("b.example", 5): ("five", 1)}, ahead)
        assert counts == {("a.example", 1): 3, ("b.example", 5): 1}
        assert asked == [[(2, 5)]], "only the pair not read ahead is read"

        with archive.session() as session, session.begin():
            phrases.fold(session)  # a fold moves counts into source_phrases: what was read ahead is stale
        asked.clear()
        with archive.session() as session, session.begin():
            counts = phrases.count(session, {("a.example", 1): ("one", 1)}, ahead)
        assert counts == {("a.example", 1): 4}, "2 folded first, 1 folded since, 1 now"
        assert asked == [[(1, 1)]]
