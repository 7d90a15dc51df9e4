"""`bulk.insert_dicts` and `bulk.update_rows` on SQLite bind values through the DBAPI directly:
what they store must be what SQLAlchemy's own executemany stores for the same rows (the
DateTime text, JSON through the engine's serializer, None in a JSON column, the Python-side
defaults of the columns a row leaves out)."""

from __future__ import annotations

import datetime as dt
import shutil

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from archive.db import bulk
from archive.db.engine import make_engine
from archive.db.models import Article, Cluster, ClusterMember

WHEN = dt.datetime(2025, 3, 17, 9, 30, 0, 250)


def _clusters(n: int) -> list[dict]:
    return [{"kind": "event" if i % 2 else "copy", "representative_id": None, "size": i + 1,
             "first_seen": WHEN, "last_seen": WHEN + dt.timedelta(hours=i), "first_published": None,
             "last_published": WHEN, "original_reason": "first of its text" if i else None,
             "centroid": {"东莞": 0.5, "hong": 0.25} if i % 2 else None, "updated_at": WHEN, "event_id": None}
            for i in range(n)]


def _members(cluster_ids: list[int]) -> list[dict]:
    return [{"cluster_id": cid, "article_id": 100 + i, "kind": "event", "role": "member", "similarity": 0.8125,
             "matched_article_id": None, "evidence": {"via": "terms", "copy_cluster": 7} if i else None}
            for i, cid in enumerate(cluster_ids)]


def _articles(session: Session) -> None:
    session.execute(insert(Article.__table__), [
        {"id": 100 + i, "url": f"https://example.org/{i}", "clean_text": "text", "text_hash": f"{i:064x}",
         "signature": b"", "fetched_at": WHEN} for i in range(4)])


def _stored(engine, table: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))]


def _without(rows: list[tuple], column: int) -> list[tuple]:
    return [row[:column] + row[column + 1:] for row in rows]


def test_the_same_rows_as_sqlalchemys_executemany(tmp_path, sqlite_template):
    ours_path, theirs_path = tmp_path / "ours.db", tmp_path / "theirs.db"
    shutil.copy(sqlite_template, ours_path)
    shutil.copy(sqlite_template, theirs_path)
    ours, theirs = make_engine(f"sqlite:///{ours_path}"), make_engine(f"sqlite:///{theirs_path}")
    try:
        with Session(ours) as session, session.begin():
            _articles(session)
            ids = bulk.insert_returning_ids(session, Cluster, _clusters(4))
            bulk.insert_dicts(session, ClusterMember, _members(ids))
            bulk.update_rows(session, Cluster, [{"id": ids[1], "size": 9, "centroid": None, "last_seen": WHEN},
                                                {"id": ids[2], "size": 3, "centroid": {"a": 1.0}, "last_seen": None}])
            bulk.update_rows(session, ClusterMember, [{"cluster_id": ids[0], "article_id": 100, "role": "original"}])
        with Session(theirs) as session, session.begin():
            _articles(session)
            session.execute(insert(Cluster.__table__), [{**row, "id": i} for row, i in zip(_clusters(4), ids)])
            session.execute(insert(ClusterMember.__table__), _members(ids))
            session.execute(update(Cluster), [{"id": ids[1], "size": 9, "centroid": None, "last_seen": WHEN},
                                              {"id": ids[2], "size": 3, "centroid": {"a": 1.0}, "last_seen": None}])
            session.execute(update(ClusterMember), [{"cluster_id": ids[0], "article_id": 100, "role": "original"}])
        created_at = [c.name for c in Cluster.__table__.columns].index("created_at")
        added_at = [c.name for c in ClusterMember.__table__.columns].index("added_at")
        mine, theirs_rows = _stored(ours, "clusters"), _stored(theirs, "clusters")
        # The defaults are "now" on both sides: the same text form, not the same instant.
        assert all(type(r[created_at]) is str and dt.datetime.fromisoformat(r[created_at]) for r in mine)
        assert [len(r[created_at]) for r in mine] == [len(r[created_at]) for r in theirs_rows]
        assert _without(mine, created_at) == _without(theirs_rows, created_at)
        assert [r[1] for r in mine] == ["copy", "event", "copy", "event"] and mine[0][-1] == "2025-03-17 09:30:00.000250"
        members, their_members = _stored(ours, "cluster_members"), _stored(theirs, "cluster_members")
        assert _without(members, added_at) == _without(their_members, added_at)
        assert [m[3] for m in members] == ["original", "member", "member", "member"]
    finally:
        ours.dispose()
        theirs.dispose()
