"""band_keys_new and band_keys_recent: the band index's smaller tiers, as tables of their own

On SQLite a batch writes its band keys into `band_keys_new`, which is moved into
`band_keys_recent` every few thousand articles, which is moved into `band_keys` (the main tier)
in runs that grow with the archive (`archive.db.bandindex`). Code of revision 0006 kept one
smaller tier inside `band_keys` itself, under level + 2; those rows move to `band_keys_recent`
here. Both tables exist on PostgreSQL too, empty: keys go straight to `band_keys` there. The
view `band_index` reads the three as one, with the tier each key is in, for SQL queries.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_TIERS = ('band_keys_new', 'band_keys_recent')
_COLUMNS = "level, band, key, article_id"


def _create(name: str) -> None:
    op.create_table(
        name,
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('band', sa.SmallInteger(), nullable=False),
        sa.Column('key', sa.BigInteger(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f(f'fk_{name}_article_id_articles'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('level', 'band', 'key', 'article_id', name=op.f(f'pk_{name}')),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f(f'ix_{name}_article_id'), name, ['article_id'])


_VIEW = ("CREATE VIEW band_index AS "
         f"SELECT {_COLUMNS}, 'new' AS tier FROM band_keys_new UNION ALL "
         f"SELECT {_COLUMNS}, 'recent' AS tier FROM band_keys_recent UNION ALL "
         f"SELECT {_COLUMNS}, 'main' AS tier FROM band_keys")


def upgrade() -> None:
    for name in _TIERS:
        _create(name)
    op.execute(_VIEW)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f"INSERT INTO band_keys_recent ({_COLUMNS}) SELECT level - 2, band, key, article_id "
                   f"FROM band_keys WHERE level >= 2 ORDER BY {_COLUMNS}")
        op.execute("DELETE FROM band_keys WHERE level >= 2")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS band_index")
    # Into the main tier, which revision 0006's code reads as well as its level + 2 one.
    for name in _TIERS:
        op.execute(f"INSERT OR IGNORE INTO band_keys ({_COLUMNS}) SELECT {_COLUMNS} FROM {name} ORDER BY {_COLUMNS}"
                   if op.get_bind().dialect.name == 'sqlite' else
                   f"INSERT INTO band_keys ({_COLUMNS}) SELECT {_COLUMNS} FROM {name} ON CONFLICT DO NOTHING")
        op.drop_index(op.f(f'ix_{name}_article_id'), table_name=name)
        op.drop_table(name)
