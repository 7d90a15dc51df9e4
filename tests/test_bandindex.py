"""The band index's tiers on SQLite: where new keys go, the moves from tier to tier, reads over
every tier, clusters that do not depend on when the moves happen, and migration 0007."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3

from alembic import command
from sqlalchemy import create_engine, text

from archive.api import Archive
from archive.config import child_environment, load_settings
from archive.db import bandindex, bulk, migrate
from tests.test_batch import corpus, documents, partition

TIERS = (bandindex.NEW, bandindex.RECENT, bandindex.MAIN)


def _archive(url: str, new: int = 10_000, recent: int = 50_000, batch_size: int = 2) -> Archive:
    settings = dataclasses.replace(load_settings({"ARCHIVE_DATABASE_URL": url}), batch_size=batch_size,
                                   index_new_articles=new, index_recent_articles=recent)
    archive = Archive(settings)
    archive.upgrade()
    return archive


def _keys(archive: Archive) -> dict[str, set[tuple[int, int, int, int]]]:
    """table -> its (level, band, key, article_id) rows, for the tables that hold any."""
    out: dict[str, set[tuple[int, int, int, int]]] = {}
    with archive.engine.connect() as conn:
        for table in TIERS:
            rows = {tuple(r) for r in conn.execute(text(f"SELECT level, band, key, article_id FROM {table}"))}
            if rows:
                out[table] = rows
    return out


def _articles(rows: set[tuple[int, int, int, int]]) -> set[int]:
    return {article_id for *_, article_id in rows}


def _reads(archive: Archive, rows: set[tuple[int, int, int, int]]) -> tuple:
    copy_keys = [(band, key) for level, band, key, _ in rows if level == 0]
    event_keys = [key for level, _, key, _ in rows if level == 1]
    with archive.session() as s:
        return bulk.postings(s, 0, copy_keys), bulk.capped_postings(s, 1, 0, event_keys, 3)


def test_new_keys_go_to_the_new_tier_and_each_move_keeps_every_key_and_every_read(sqlite_url):
    with _archive(sqlite_url) as archive:
        archive.ingest_documents(documents(corpus()))
        before = _keys(archive)
        assert set(before) == {bandindex.NEW}, "on SQLite a batch writes to the new tier only"
        rows = before[bandindex.NEW]
        reads = _reads(archive, rows)
        with archive.engine.connect() as conn:
            assert bandindex.tier_articles(conn, bandindex.NEW) == 19
            assert conn.execute(text("SELECT count(*) FROM band_index WHERE tier = 'new'")).scalar() == len(rows)

        assert bandindex.merge(archive.engine, bandindex.NEW, bandindex.RECENT) == len(rows)
        assert _keys(archive) == {bandindex.RECENT: rows}
        assert _reads(archive, rows) == reads
        assert bandindex.merge(archive.engine, bandindex.RECENT, bandindex.MAIN) == len(rows)
        assert _keys(archive) == {bandindex.MAIN: rows}
        assert _reads(archive, rows) == reads
        with archive.engine.connect() as conn:  # the move turned them off on its own connection only
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert archive.check().violations == []


def test_capped_postings_take_the_newest_over_every_tier(db_url):
    with _archive(db_url) as archive:
        archive.ingest_documents(documents(corpus()[:6]))
        with archive.session() as s:
            ids = sorted(s.scalars(text("SELECT id FROM articles")).all())
        # One term: the two oldest articles in the main tier, the next two in the recent one, the
        # newest in the new one (on PostgreSQL all in the main tier, the only one it reads).
        tables = bandindex.tables(archive.engine)
        with archive.engine.begin() as conn:
            for i, article_id in enumerate(ids):
                table = tables[max(0, len(tables) - 1 - i // 2)]
                conn.execute(text(f"INSERT INTO {table} (level, band, key, article_id) VALUES (1, 0, 42, :a)"),
                             {"a": article_id})
        with archive.session() as s:
            assert bulk.capped_postings(s, 1, 0, [42], 5) == {42: ids[::-1][:5]}
            assert bulk.capped_postings(s, 1, 0, [42], 1) == {42: ids[::-1][:1]}
            assert sorted(bulk.postings(s, 1, [(0, 42)])[(0, 42)]) == ids


def test_ingest_moves_the_tiers_at_the_settings_and_places_as_without_moves(db_url, tmp_path):
    """Batches of two, the new tier moved once it holds four articles, the recent one once it
    holds eight: the same clusters as with one tier (and as PostgreSQL, which has one)."""
    docs = documents(corpus())
    with _archive(db_url, new=4, recent=8) as archive:
        summary = archive.ingest_documents(docs)
        moved = partition(archive), (summary.new, summary.copies, summary.duplicates)
        keys = _keys(archive)
        with archive.session() as s:
            articles = s.scalar(text("SELECT count(*) FROM articles"))
        if archive.engine.dialect.name == "sqlite":
            held = {table: len(_articles(rows)) for table, rows in keys.items()}
            assert held.get(bandindex.NEW, 0) < 4 + 2, "moved whenever four or more were new, checked per batch"
            assert held.get(bandindex.RECENT, 0) < 8 + 4 and held.get(bandindex.MAIN, 0) >= 8
            assert sum(held.values()) == articles
            assert summary.timings.get("index move", 0) > 0
        else:
            assert set(keys) == {bandindex.MAIN}
        assert archive.check().violations == []
    with _archive(f"sqlite:///{tmp_path / 'one-tier.db'}") as archive:
        summary = archive.ingest_documents(docs)
        assert (partition(archive), (summary.new, summary.copies, summary.duplicates)) == moved
        assert set(_keys(archive)) == {bandindex.NEW}


def test_the_recent_tier_grows_with_the_archive():
    assert bandindex.recent_target(10_000, 50_000, 0) == 50_000
    assert bandindex.recent_target(10_000, 50_000, 250_000) == 50_000
    assert bandindex.recent_target(10_000, 50_000, 1_000_000) == 100_000
    assert bandindex.recent_target(10_000, 50_000, 10_000_000) == 316_227


def test_a_reprint_finds_its_original_in_any_tier(sqlite_url):
    records = [r for r in corpus() if r["id"].startswith("o")]
    with _archive(sqlite_url, new=2, recent=4, batch_size=2) as archive:
        archive.ingest_documents(documents(records[:2]))  # moved on to the recent tier
        archive.ingest_documents(documents(records[2:8]))  # the recent tier moved on to the main one
        archive.ingest_documents(documents(records[8:10]))  # moved to the recent tier
        archive.ingest_documents(documents(records[10:11]))  # fewer than a batch since: stays new
        held = {table: _articles(rows) for table, rows in _keys(archive).items()}
        assert [len(held.get(t, ())) for t in TIERS] == [1, 2, 8]
        reprints = [{**records[i], "id": f"r{i}", "url": f"https://reprint.example/{i}",
                     "text": records[i]["text"] + "\n\nShared from reprint.example"} for i in (0, 9, 10)]
        summary = archive.ingest_documents(documents(reprints))
        assert summary.copies == 3


def test_a_move_that_cannot_take_the_lock_is_left_for_later(sqlite_url, caplog):
    with _archive(sqlite_url) as archive:
        archive.ingest_documents(documents(corpus()[:6]))
        before = _keys(archive)
    assert set(before) == {bandindex.NEW}
    path = sqlite_url.removeprefix("sqlite:///")
    impatient = create_engine(sqlite_url, connect_args={"timeout": 0.1})
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    try:
        with caplog.at_level(logging.WARNING, logger="archive.db.bandindex"):
            assert bandindex.merge_if_due(impatient, 1, 1) == 0
        assert "not moved" in caplog.text
    finally:
        holder.rollback()
        holder.close()
    with _archive(sqlite_url) as archive:
        assert _keys(archive) == before, "nothing half moved"
    assert bandindex.merge_if_due(impatient, 1, 1) == 2 * len(before[bandindex.NEW]), "moved twice, into the main tier"
    impatient.dispose()


def test_the_tier_sizes_are_read_checked_and_passed_to_children(tmp_path):
    from archive.errors import ConfigError

    config = tmp_path / "archive.toml"
    config.write_text("[archive]\nindex_new_articles = 3000\nindex_recent_articles = 20000\n")
    settings = load_settings({"ARCHIVE_CONFIG": str(config)})
    assert (settings.index_new_articles, settings.index_recent_articles) == (3_000, 20_000)
    assert (load_settings({}).index_new_articles, load_settings({}).index_recent_articles) == (10_000, 50_000)
    assert load_settings({"ARCHIVE_INDEX_RECENT_ARTICLES": "7"}).index_recent_articles == 7
    assert load_settings({"ARCHIVE_INDEX_NEW_ARTICLES": "5"}).index_new_articles == 5
    child = load_settings(child_environment(settings, {}))
    assert (child.index_new_articles, child.index_recent_articles) == (3_000, 20_000)
    for name in ("ARCHIVE_INDEX_RECENT_ARTICLES", "ARCHIVE_INDEX_NEW_ARTICLES"):
        try:
            load_settings({name: "0"})
        except ConfigError as exc:
            assert "at least 1" in str(exc)
        else:
            raise AssertionError(f"{name}=0 was accepted")


def test_migration_0007_moves_the_older_recent_tier_into_its_table_and_back(sqlite_url):
    """Code of revision 0006 kept recent keys in band_keys under level + 2: the upgrade moves them
    to band_keys_recent at their own level; the downgrade moves every tier into band_keys."""
    with _archive(sqlite_url) as archive:
        archive.ingest_documents(documents(corpus()[:6]))
        rows = _keys(archive)[bandindex.NEW]
    config = migrate.alembic_config(sqlite_url)
    command.downgrade(config, "0006")
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        assert {tuple(r) for r in conn.execute(text("SELECT level, band, key, article_id FROM band_keys"))} == rows
        conn.execute(text("UPDATE band_keys SET level = level + 2 WHERE article_id > 2"))
    migrate.upgrade(sqlite_url)
    with _archive(sqlite_url) as archive:
        keys = _keys(archive)
        assert keys[bandindex.RECENT] == {r for r in rows if r[3] > 2}
        assert keys[bandindex.MAIN] == {r for r in rows if r[3] <= 2}
        assert archive.check().violations == []
    engine.dispose()
