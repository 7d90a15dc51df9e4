"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('archive_meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_archive_meta'))
    )
    op.create_table('cluster_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('other_cluster_id', sa.Integer(), nullable=True),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cluster_history'))
    )
    with op.batch_alter_table('cluster_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cluster_history_cluster_id'), ['cluster_id'], unique=False)

    op.create_table('clusters',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('representative_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=True),
    sa.Column('last_seen', sa.DateTime(), nullable=True),
    sa.Column('first_published', sa.DateTime(), nullable=True),
    sa.Column('last_published', sa.DateTime(), nullable=True),
    sa.Column('original_reason', sa.Text(), nullable=True),
    sa.Column('centroid', sa.JSON(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['clusters.id'], name=op.f('fk_clusters_event_id_clusters')),
    sa.ForeignKeyConstraint(['merged_into'], ['clusters.id'], name=op.f('fk_clusters_merged_into_clusters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters'))
    )
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clusters_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clusters_first_seen'), ['first_seen'], unique=False)
        batch_op.create_index(batch_op.f('ix_clusters_kind'), ['kind'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('link', sa.String(length=12), nullable=False),
    sa.Column('article_a', sa.Integer(), nullable=False),
    sa.Column('article_b', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_article_a'), ['article_a'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_article_b'), ['article_b'], unique=False)

    op.create_table('fetch_state',
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('etag', sa.String(length=400), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('url', name=op.f('pk_fetch_state'))
    )
    op.create_table('ingest_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('job_name', sa.String(length=200), nullable=True),
    sa.Column('args', sa.JSON(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('read', sa.Integer(), nullable=False),
    sa.Column('new', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('events_touched', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('host', sa.String(length=200), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ingest_runs'))
    )
    op.create_table('job_locks',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_locks'))
    )
    op.create_table('loaded_files',
    sa.Column('job_name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('job_name', 'sha256', name=op.f('pk_loaded_files'))
    )
    op.create_table('raw_documents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=True),
    sa.Column('encoding', sa.String(length=40), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('compression', sa.String(length=10), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raw_documents')),
    sa.UniqueConstraint('sha256', name=op.f('uq_raw_documents_sha256'))
    )
    op.create_table('sources',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('home_url', sa.String(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name'))
    )
    op.create_table('articles',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('raw_document_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('canonical_url', sa.String(length=2000), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('byline', sa.String(length=500), nullable=True),
    sa.Column('attribution', sa.String(length=200), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('clean_text', sa.Text(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('shingle_count', sa.Integer(), nullable=False),
    sa.Column('signature', sa.LargeBinary(), nullable=False),
    sa.Column('event_terms', sa.JSON(), nullable=True),
    sa.Column('removed', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['raw_document_id'], ['raw_documents.id'], name=op.f('fk_articles_raw_document_id_raw_documents')),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_runs.id'], name=op.f('fk_articles_run_id_ingest_runs')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_articles_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articles')),
    sa.UniqueConstraint('url', name=op.f('uq_articles_url'))
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articles_fetched_at'), ['fetched_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_raw_document_id'), ['raw_document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articles_text_hash'), ['text_hash'], unique=False)

    op.create_table('rejected_inputs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_runs.id'], name=op.f('fk_rejected_inputs_run_id_ingest_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejected_inputs'))
    )
    with op.batch_alter_table('rejected_inputs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejected_inputs_run_id'), ['run_id'], unique=False)

    op.create_table('source_phrases',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('phrase_hash', sa.BigInteger(), nullable=False),
    sa.Column('phrase', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_phrases_source_id_sources')),
    sa.PrimaryKeyConstraint('source_id', 'phrase_hash', name=op.f('pk_source_phrases'))
    )
    op.create_table('band_keys',
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('band', sa.SmallInteger(), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_band_keys_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('level', 'band', 'key', 'article_id', name=op.f('pk_band_keys'))
    )
    with op.batch_alter_table('band_keys', schema=None) as batch_op:
        batch_op.create_index('ix_band_keys_article_id', ['article_id'], unique=False)

    op.create_table('cluster_members',
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.Column('matched_article_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_cluster_members_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_cluster_members_cluster_id_clusters')),
    sa.PrimaryKeyConstraint('cluster_id', 'article_id', name=op.f('pk_cluster_members')),
    sa.UniqueConstraint('article_id', 'kind', name='uq_cluster_members_article_kind')
    )
    with op.batch_alter_table('cluster_members', schema=None) as batch_op:
        batch_op.create_index('ix_cluster_members_cluster_id', ['cluster_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('cluster_members', schema=None) as batch_op:
        batch_op.drop_index('ix_cluster_members_cluster_id')

    op.drop_table('cluster_members')
    with op.batch_alter_table('band_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_band_keys_article_id')

    op.drop_table('band_keys')
    op.drop_table('source_phrases')
    with op.batch_alter_table('rejected_inputs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejected_inputs_run_id'))

    op.drop_table('rejected_inputs')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articles_text_hash'))
        batch_op.drop_index(batch_op.f('ix_articles_source_id'))
        batch_op.drop_index(batch_op.f('ix_articles_run_id'))
        batch_op.drop_index(batch_op.f('ix_articles_raw_document_id'))
        batch_op.drop_index(batch_op.f('ix_articles_published_at'))
        batch_op.drop_index(batch_op.f('ix_articles_fetched_at'))

    op.drop_table('articles')
    op.drop_table('sources')
    op.drop_table('raw_documents')
    op.drop_table('loaded_files')
    op.drop_table('job_locks')
    op.drop_table('ingest_runs')
    op.drop_table('fetch_state')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_article_b'))
        batch_op.drop_index(batch_op.f('ix_decisions_article_a'))

    op.drop_table('decisions')
    with op.batch_alter_table('clusters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clusters_kind'))
        batch_op.drop_index(batch_op.f('ix_clusters_first_seen'))
        batch_op.drop_index(batch_op.f('ix_clusters_event_id'))

    op.drop_table('clusters')
    with op.batch_alter_table('cluster_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cluster_history_cluster_id'))

    op.drop_table('cluster_history')
    op.drop_table('archive_meta')
    
