"""The band index's recent tier on SQLite: where new keys go, the move into the main tier, reads
over both tiers, and clusters that do not depend on when the moves happen."""

from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import create_engine, text

from archive.api import Archive
from archive.config import child_environment, load_settings
from archive.db import bandindex, bulk
from tests import runs
from tests.test_batch import corpus, documents, partition


def _archive(url: str, recent: int, batch_size: int = 2) -> Archive:
    # A commit per batch (commit_size 0), so that moves are checked after every small batch.
    settings = dataclasses.replace(load_settings({"ARCHIVE_DATABASE_URL": url}), batch_size=batch_size,
                                   commit_size=0, index_recent_articles=recent)
    archive = Archive(settings)
    archive.upgrade()
    return archive


def _keys_by_level(archive: Archive) -> dict[int, set[tuple[int, int, int]]]:
    out: dict[int, set[tuple[int, int, int]]] = {}
    with archive.engine.connect() as conn:
        for level, band, key, article_id in conn.execute(text("SELECT level, band, key, article_id FROM band_keys")):
            out.setdefault(level, set()).add((band, key, article_id))
    return out


def _stored_articles(archive: Archive, level: int) -> set[int]:
    return {article_id for _, _, article_id in _keys_by_level(archive).get(level, set())}


def test_new_keys_go_to_the_recent_tier_and_a_move_keeps_every_key_and_every_read(sqlite_url):
    with _archive(sqlite_url, recent=10_000) as archive:
        archive.ingest_documents(documents(corpus()))
        before = _keys_by_level(archive)
        assert set(before) == {2, 3}, "on SQLite a batch writes to the recent tier only"
        copy_keys = [(band, key) for band, key, _ in before[2]]
        event_keys = [key for _, key, _ in before[3]]
        with archive.session() as s:
            reads_before = (bulk.postings(s, 0, copy_keys), bulk.capped_postings(s, 1, 0, event_keys, 3))
            assert bandindex.recent_articles(s) == 19
        moved = bandindex.merge(archive.engine)

        after = _keys_by_level(archive)
        assert moved == len(before[2]) + len(before[3])
        assert after == {0: before[2], 1: before[3]}
        with archive.session() as s:
            assert (bulk.postings(s, 0, copy_keys), bulk.capped_postings(s, 1, 0, event_keys, 3)) == reads_before
            assert bandindex.recent_articles(s) == 0
        with archive.engine.connect() as conn:  # the move turned them off on its own connection only
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert archive.check().violations == []


def test_capped_postings_take_the_newest_over_both_tiers(sqlite_url):
    with _archive(sqlite_url, recent=10_000) as archive:
        archive.ingest_documents(documents(corpus()[:5]))
        with archive.session() as s:
            ids = sorted(s.scalars(text("SELECT id FROM articles")).all())
        with archive.engine.begin() as conn:  # one term: the two oldest articles moved, three recent
            conn.execute(text("INSERT INTO band_keys (level, band, key, article_id) VALUES (:l, 0, 42, :a)"),
                         [{"l": 1 if i < 2 else 3, "a": a} for i, a in enumerate(ids)])
        with archive.session() as s:
            assert bulk.capped_postings(s, 1, 0, [42], 4) == {42: ids[::-1][:4]}
            assert bulk.capped_postings(s, 1, 0, [42], 2) == {42: ids[::-1][:2]}
            assert sorted(bulk.postings(s, 1, [(0, 42)])[(0, 42)]) == ids


def test_ingest_moves_the_recent_tier_at_the_setting_and_places_as_without_moves(db_url, tmp_path):
    """Batches of two, a move once four articles are recent: the same clusters as one tier (and as
    PostgreSQL, which writes straight to the main tier)."""
    docs = documents(corpus())
    with _archive(db_url, recent=4) as archive:
        summary = archive.ingest_documents(docs)
        moved = partition(archive), (summary.new, summary.copies, summary.duplicates)
        levels = _keys_by_level(archive)
        with archive.session() as s:
            articles = s.scalar(text("SELECT count(*) FROM articles"))
        if archive.engine.dialect.name == "sqlite":
            recent = _stored_articles(archive, 2)
            assert 0 < len(recent) < 4 + 2, "moved whenever four or more were recent, checked per batch"
            assert len(_stored_articles(archive, 0)) + len(recent) == articles
            assert summary.timings.get("index move", 0) > 0
        else:
            assert set(levels) == {0, 1}
        assert archive.check().violations == []
    with _archive(f"sqlite:///{tmp_path / 'one-tier.db'}", recent=10_000) as archive:
        summary = archive.ingest_documents(docs)
        assert (partition(archive), (summary.new, summary.copies, summary.duplicates)) == moved
        assert set(_keys_by_level(archive)) == {2, 3}


def test_a_reprint_finds_its_original_in_either_tier(sqlite_url):
    records = [r for r in corpus() if r["id"].startswith("o")]
    with _archive(sqlite_url, recent=4, batch_size=4) as archive:
        archive.ingest_documents(documents(records[:8]))  # two batches of four: moved after the second
        archive.ingest_documents(documents(records[8:10]))  # fewer than a batch since: not looked at
        assert len(_stored_articles(archive, 0)) == 8 and len(_stored_articles(archive, 2)) == 2
        reprints = [{**records[i], "id": f"r{i}", "url": f"https://reprint.example/{i}",
                     "text": records[i]["text"] + "\n\nShared from reprint.example"} for i in (0, 9)]
        summary = archive.ingest_documents(documents(reprints))
        assert summary.copies == 2


def test_a_move_that_cannot_take_the_lock_is_left_for_later(sqlite_url, caplog):
    with _archive(sqlite_url, recent=10_000) as archive:
        archive.ingest_documents(documents(corpus()[:6]))
        before = _keys_by_level(archive)
    assert set(before) == {2, 3}
    impatient = create_engine(sqlite_url, connect_args={"timeout": 0.1})
    with runs.sqlite_writer_holding_the_lock(sqlite_url):
        with caplog.at_level(logging.WARNING, logger="archive.db.bandindex"):
            assert bandindex.merge_if_due(impatient, 1) == 0
        assert "not moved" in caplog.text
    with _archive(sqlite_url, recent=10_000) as archive:
        assert _keys_by_level(archive) == before, "nothing half moved"
    assert bandindex.merge_if_due(impatient, 1) > 0
    impatient.dispose()


def test_the_recent_tier_size_is_read_checked_and_passed_to_children(tmp_path):
    from archive.errors import ConfigError

    config = tmp_path / "archive.toml"
    config.write_text("[archive]\nindex_recent_articles = 20000\n")
    settings = load_settings({"ARCHIVE_CONFIG": str(config)})
    assert settings.index_recent_articles == 20_000 and load_settings({}).index_recent_articles == 50_000
    assert load_settings({"ARCHIVE_INDEX_RECENT_ARTICLES": "7"}).index_recent_articles == 7
    assert load_settings(child_environment(settings, {})).index_recent_articles == 20_000
    try:
        load_settings({"ARCHIVE_INDEX_RECENT_ARTICLES": "0"})
    except ConfigError as exc:
        assert "at least 1" in str(exc)
    else:
        raise AssertionError("a recent tier of 0 articles was accepted")
