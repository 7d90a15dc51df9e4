"""band_keys: no index on article_id

On SQLite the band index keeps a recent tier that is moved into the main one every
`index_recent_articles` articles (`archive.db.bandindex`). A move changes each key's level, so
besides the primary key it rewrote every key's entry in the article_id index: an entry deleted and
one inserted per key, half of the move's B-tree work, and an index twice the size of the table
itself (533 against 271 MiB at 300,000 articles: the moves left its pages half full). Nothing on
the ingest path reads keys by article: the writer's mark of the index is the largest article id
(one seek in the articles' primary key) and `archive check` reads the whole index once in key order
(`archive.check.BandKeyCensus`). Articles are never deleted; if one were, its keys would be found by
a scan. PostgreSQL drops the index too, so both databases keep one schema.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_band_keys_article_id', table_name='band_keys')


def downgrade() -> None:
    op.create_index('ix_band_keys_article_id', 'band_keys', ['article_id'])
