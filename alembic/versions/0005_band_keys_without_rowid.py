"""band_keys without a rowid on SQLite

The index table's rows are their own primary key (level, band, key, article_id). As a rowid table
SQLite kept each row twice, in the table and in the primary-key index, and every batch wrote
both; stored WITHOUT ROWID the primary-key B-tree is the table. The rebuild copies every row
once (minutes for an archive of a million articles). PostgreSQL is left as it is.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_COLUMNS = "level, band, key, article_id"


def _rebuild(without_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    suffix = " WITHOUT ROWID" if without_rowid else ""
    op.execute("DROP TABLE IF EXISTS band_keys_rebuilt")  # left by an upgrade interrupted before its copy
    op.execute(
        "CREATE TABLE band_keys_rebuilt (level SMALLINT NOT NULL, band SMALLINT NOT NULL, key BIGINT NOT NULL, "
        "article_id INTEGER NOT NULL, CONSTRAINT pk_band_keys PRIMARY KEY (level, band, key, article_id), "
        "CONSTRAINT fk_band_keys_article_id_articles FOREIGN KEY(article_id) REFERENCES articles (id) "
        f"ON DELETE CASCADE){suffix}"
    )
    # In key order, so the new B-tree is filled page after page.
    op.execute(f"INSERT INTO band_keys_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM band_keys ORDER BY {_COLUMNS}")
    op.execute("DROP INDEX ix_band_keys_article_id")
    op.execute("DROP TABLE band_keys")
    op.execute("ALTER TABLE band_keys_rebuilt RENAME TO band_keys")
    op.execute("CREATE INDEX ix_band_keys_article_id ON band_keys (article_id)")


def upgrade() -> None:
    _rebuild(without_rowid=True)


def downgrade() -> None:
    _rebuild(without_rowid=False)
