"""articles.shingles: the stored shingle set of each article

Exact copy checks (ingest, `archive similar`, recluster) read an original's shingle hashes instead
of re-shingling its clean text. Articles stored before this revision keep NULL and are shingled
from their text when needed, so the upgrade rewrites nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column: SQLite adds it in place (ALTER TABLE ADD COLUMN), no table rebuild.
    op.add_column('articles', sa.Column('shingles', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('shingles')
