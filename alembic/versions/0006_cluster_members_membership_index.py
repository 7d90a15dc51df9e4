"""cluster_members: a covering index for memberships, without the redundant cluster_id index

The writer reads, batch after batch, which copy and event clusters its candidate articles are in
(`archive.db.bulk.memberships`: article_id -> kind, cluster_id). The unique (article_id, kind)
index found the rows but each then needed a lookup in the table for cluster_id; the index on
(article_id, kind, cluster_id) answers from the index alone, and as article ids only grow it is
written at its end. The single-column index on cluster_id goes: the primary key
(cluster_id, article_id) already serves every lookup by cluster, and it cost a write at a random
place for every member added to an existing cluster.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_cluster_members_membership', 'cluster_members', ['article_id', 'kind', 'cluster_id'])
    op.drop_index('ix_cluster_members_cluster_id', table_name='cluster_members')


def downgrade() -> None:
    op.create_index('ix_cluster_members_cluster_id', 'cluster_members', ['cluster_id'])
    op.drop_index('ix_cluster_members_membership', table_name='cluster_members')
