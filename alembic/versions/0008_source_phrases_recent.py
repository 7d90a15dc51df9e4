"""source_phrases_recent: a small tier for the counts of sources' edge phrases

Each ingest batch counts about 11 edge phrases per article per source (`archive.db.phrases`), and
97% of them are phrases seen once, so nearly every count was a new key at a random place in the
primary-key index of `source_phrases`, a B-tree that grows by about 11 rows per article: on
SQLite each batch wrote close to one index page per phrase (47% of the pages a commit of 1,000
articles wrote at 100,000 articles). The counts now go to this small table first and are folded
into `source_phrases` in key order, many keys per page, when it fills up and at the end of every
run. Stored WITHOUT ROWID on SQLite (the key B-tree is the table). PostgreSQL creates the table
too, so both databases keep one schema, and counts straight into `source_phrases`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('source_phrases_recent',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('phrase_hash', sa.BigInteger(), nullable=False),
    sa.Column('phrase', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_phrases_recent_source_id_sources')),
    sa.PrimaryKeyConstraint('source_id', 'phrase_hash', name=op.f('pk_source_phrases_recent')),
    sqlite_with_rowid=False,
    )


def downgrade() -> None:
    # Counts not yet folded are added to source_phrases first, so none is lost.
    op.execute(
        "INSERT INTO source_phrases (source_id, phrase_hash, phrase, count, first_seen) "
        "SELECT source_id, phrase_hash, phrase, count, first_seen FROM source_phrases_recent WHERE true "
        "ON CONFLICT (source_id, phrase_hash) DO UPDATE SET count = source_phrases.count + excluded.count, "
        "phrase = CASE WHEN excluded.phrase <> '' THEN excluded.phrase ELSE source_phrases.phrase END")
    op.drop_table('source_phrases_recent')
