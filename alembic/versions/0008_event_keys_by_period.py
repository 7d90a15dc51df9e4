"""band_keys: event keys under the band of their article's period

The event index (levels 1 and 3, the latter SQLite's recent tier) kept every key in band 0, and an
article read each salient term's newest postings whatever their dates. In a large archive most of
them lay outside the publication window, yet each one's memberships and clusters were read, at
random places in tables far larger than the cache. From this revision an event key is stored under
the band of its article's 4-day period (`archive.core.events.index_band`: days since 1970 divided
by 4, rounded down, of the publication date, else the fetch date: an undated article counts as
news of the day it was fetched), and an article reads the periods its window covers. This moves
every existing event key to its article's band. The bands are computed here as that function did
at this revision, so the migration does not change with later code; keys of articles that no
longer exist are dropped (`archive check` reports them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_EVENT_LEVELS = "(1, 3)"  # the main tier and SQLite's recent one (archive.db.bandindex)
_DAYS = 4
_EPOCH = dt.datetime(1970, 1, 1)
_CHUNK = 50_000
_articles = sa.table("articles", sa.column("id", sa.Integer), sa.column("published_at", sa.DateTime),
                     sa.column("fetched_at", sa.DateTime))


def _band(published_at, fetched_at) -> int:
    when = published_at or fetched_at
    if when is None:
        return 0
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return min(max((when - _EPOCH).days // _DAYS, -32768), 32767)


def _rewrite(band_sql: str, join: str = "") -> None:
    op.execute("DROP TABLE IF EXISTS moved_event_keys")
    op.execute(f"CREATE TEMPORARY TABLE moved_event_keys AS SELECT k.level AS level, {band_sql} AS band, "
               f"k.key AS key, k.article_id AS article_id FROM band_keys k {join} "
               f"WHERE k.level IN {_EVENT_LEVELS}")
    op.execute(f"DELETE FROM band_keys WHERE level IN {_EVENT_LEVELS}")
    # In key order, so the B-tree is filled page after page.
    op.execute("INSERT INTO band_keys (level, band, key, article_id) SELECT level, band, key, article_id "
               "FROM moved_event_keys ORDER BY level, band, key, article_id")
    op.execute("DROP TABLE moved_event_keys")


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("DROP TABLE IF EXISTS article_bands")
    op.execute("CREATE TEMPORARY TABLE article_bands (article_id INTEGER PRIMARY KEY, band SMALLINT NOT NULL)")
    insert = sa.text("INSERT INTO article_bands (article_id, band) VALUES (:article_id, :band)")
    last = 0
    while True:
        rows = bind.execute(sa.select(_articles.c.id, _articles.c.published_at, _articles.c.fetched_at)
                            .where(_articles.c.id > last).order_by(_articles.c.id).limit(_CHUNK)).all()
        if not rows:
            break
        last = rows[-1][0]
        bind.execute(insert, [{"article_id": i, "band": _band(p, f)} for i, p, f in rows])
    _rewrite("b.band", "JOIN article_bands b ON b.article_id = k.article_id")
    op.execute("DROP TABLE article_bands")


def downgrade() -> None:
    _rewrite("0")
