"""The models and the migrations agree (no drift), on SQLite and PostgreSQL."""

from alembic import command
from sqlalchemy import create_engine, inspect

from archive.db import migrate


def test_no_drift_between_models_and_migrations(db_url):
    command.check(migrate.alembic_config(db_url))


def test_schema_has_the_tables(db_url):
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"articles", "raw_documents", "band_keys", "clusters", "cluster_members", "ingest_runs",
            "rejected_inputs", "sources"} <= names


def test_band_keys_lose_their_rowid_on_sqlite_and_keep_their_rows(sqlite_url):
    """0005 stores the index without a rowid (its primary key is the table); down and up again
    every row is kept, and the archive still answers `similar` from it."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from archive.api import Archive
    from archive.config import load_settings
    from tests.conftest import SEEDS

    settings = load_settings({"ARCHIVE_DATABASE_URL": sqlite_url})
    with Archive(settings) as archive:
        archive.ingest_paths([SEEDS])
    engine = create_engine(sqlite_url)

    def rows() -> list:
        with engine.connect() as conn:
            return conn.execute(text("SELECT level, band, key, article_id FROM band_keys ORDER BY 1, 2, 3, 4")).all()

    def has_rowid() -> bool:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT rowid FROM band_keys LIMIT 1")).all()
            return True
        except OperationalError:
            return False

    indexed = rows()
    assert len(indexed) > 40 and not has_rowid()
    migrate.upgrade(sqlite_url, "0005")  # already there: nothing to do
    command.downgrade(migrate.alembic_config(sqlite_url), "0004")
    assert rows() == indexed and has_rowid()
    migrate.upgrade(sqlite_url)
    assert rows() == indexed and not has_rowid()
    assert "ix_band_keys_article_id" not in {ix["name"] for ix in inspect(engine).get_indexes("band_keys")}
    engine.dispose()
    command.check(migrate.alembic_config(sqlite_url))
    with Archive(settings) as archive:
        assert archive.check().ok
        seed = sorted(SEEDS.iterdir())[0]
        assert archive.similar(path=str(seed))["results"], "the rebuilt index finds the stored seed"


def test_memberships_are_read_from_the_covering_index(db_url):
    """0006: memberships by article come from one index (no table lookups), lookups by cluster
    from the primary key; down and up again the indexes follow."""
    from sqlalchemy import text

    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))

    def indexes() -> set[str]:
        return {ix["name"] for ix in inspect(engine).get_indexes("cluster_members")}

    try:
        assert "ix_cluster_members_membership" in indexes() and "ix_cluster_members_cluster_id" not in indexes()
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                plan = " ".join(str(r[-1]) for r in conn.execute(text(
                    "EXPLAIN QUERY PLAN SELECT article_id, kind, cluster_id FROM cluster_members "
                    "WHERE article_id IN (1, 2, 3)")))
            assert "COVERING INDEX ix_cluster_members_membership" in plan
        command.downgrade(migrate.alembic_config(db_url), "0005")
        assert "ix_cluster_members_cluster_id" in indexes() and "ix_cluster_members_membership" not in indexes()
        migrate.upgrade(db_url)
        assert "ix_cluster_members_membership" in indexes() and "ix_cluster_members_cluster_id" not in indexes()
    finally:
        engine.dispose()
    command.check(migrate.alembic_config(db_url))


def test_band_keys_lose_their_article_index_and_the_archive_still_checks(db_url, tmp_path):
    """0007: no index on band_keys.article_id; down and up again it follows, and `archive check`
    (which reads the index whole instead) still passes on an archive and finds a key removed."""
    from sqlalchemy import text

    from archive.api import Archive
    from archive.config import load_settings
    from tests.conftest import SEEDS

    settings = load_settings({"ARCHIVE_DATABASE_URL": db_url})
    with Archive(settings) as archive:
        archive.ingest_paths([SEEDS])
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))

    def indexes() -> set[str]:
        return {ix["name"] for ix in inspect(engine).get_indexes("band_keys")}

    try:
        assert "ix_band_keys_article_id" not in indexes()
        command.downgrade(migrate.alembic_config(db_url), "0006")
        assert "ix_band_keys_article_id" in indexes()
        migrate.upgrade(db_url)
        assert "ix_band_keys_article_id" not in indexes()
        with Archive(settings) as archive:
            assert archive.check().ok
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM band_keys WHERE article_id = 2 AND level IN (0, 2) AND band = 3"))
            report = archive.check()
            assert [(v.rule, v.examples) for v in report.violations] == [("band-keys-copy", [2])]
    finally:
        engine.dispose()
    command.check(migrate.alembic_config(db_url))


def test_source_phrases_recent_tier_comes_and_goes_without_losing_counts(db_url):
    """0008 adds the recent tier of phrase counts (WITHOUT ROWID on SQLite); going down folds the
    counts waiting there into source_phrases first."""
    from sqlalchemy import text

    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            source = conn.execute(text("INSERT INTO sources (name, kind, created_at) "
                                       "VALUES ('a.example', 'web', '2025-03-17') RETURNING id")).scalar_one()
            conn.execute(text("INSERT INTO source_phrases (source_id, phrase_hash, phrase, count, first_seen) "
                              "VALUES (:s, 1, '', 2, '2025-03-17'), (:s, 2, '', 1, '2025-03-17')"), {"s": source})
            conn.execute(text("INSERT INTO source_phrases_recent (source_id, phrase_hash, phrase, count, first_seen) "
                              "VALUES (:s, 1, 'one', 3, '2025-03-18'), (:s, 3, '', 1, '2025-03-18')"), {"s": source})
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                sql = conn.execute(text("SELECT sql FROM sqlite_master "
                                        "WHERE name = 'source_phrases_recent'")).scalar_one()
            assert sql.rstrip().endswith("WITHOUT ROWID")
        command.downgrade(migrate.alembic_config(db_url), "0007")
        assert "source_phrases_recent" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT phrase_hash, count, phrase FROM source_phrases "
                                     "ORDER BY phrase_hash")).all()
        assert [tuple(r) for r in rows] == [(1, 5, "one"), (2, 1, ""), (3, 1, "")]
        migrate.upgrade(db_url)
        assert "source_phrases_recent" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    command.check(migrate.alembic_config(db_url))
