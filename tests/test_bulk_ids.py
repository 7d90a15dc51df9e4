"""`bulk.insert_returning_ids` on a real SQLite file and PostgreSQL: the ids come back in the
rows' order and are the ones the database itself gives; on SQLite, where they are worked out
from the largest id, they are read under the write lock, so a writer that committed just
before is never collided with."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from archive.db import bulk
from archive.db.engine import make_engine
from archive.db.models import Source


def _names(session: Session) -> dict[int, str]:
    return dict(session.execute(text("SELECT id, name FROM sources")).all())


def test_ids_come_back_in_the_rows_order(db_url):
    engine = make_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            first = bulk.insert_returning_ids(session, Source, [{"name": f"s{n}", "kind": "web"} for n in range(3)])
            assert bulk.insert_returning_ids(session, Source, []) == []
        with Session(engine) as session, session.begin():
            more = bulk.insert_returning_ids(session, Source, [{"name": "t0"}, {"name": "t1"}])
        assert first == sorted(first) and more == sorted(more) and more[0] > first[-1]
        with Session(engine) as session:
            stored = _names(session)
        assert [stored[i] for i in first + more] == ["s0", "s1", "s2", "t0", "t1"]
    finally:
        engine.dispose()


def test_sqlite_gives_the_ids_it_would_give_itself(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session, session.begin():
            first = bulk.insert_returning_ids(session, Source, [{"name": f"s{n}"} for n in range(3)])
            session.execute(text("DELETE FROM sources WHERE id = :id"), {"id": first[-1]})
        with Session(engine) as session:  # SQLite's own next id, in a transaction rolled back
            own = session.execute(text("INSERT INTO sources (name, kind, created_at) "
                                       "VALUES ('probe', 'web', '2025-01-01') RETURNING id")).scalar()
            session.rollback()
        with Session(engine) as session, session.begin():
            assert bulk.insert_returning_ids(session, Source, [{"name": "t0"}, {"name": "t1"}]) == [own, own + 1]
    finally:
        engine.dispose()


def test_sqlite_ids_follow_the_rows_another_writer_committed_meanwhile(sqlite_url):
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as late, Session(engine) as other:
            late.begin()
            assert late.execute(text("SELECT count(*) FROM sources")).scalar() == 0
            with other.begin():
                committed = bulk.insert_returning_ids(other, Source, [{"name": "committed first"}])
            ids = bulk.insert_returning_ids(late, Source, [{"name": "late"}])
            late.commit()
        assert ids == [committed[0] + 1]
        with Session(engine) as session:
            assert _names(session) == {committed[0]: "committed first", ids[0]: "late"}
    finally:
        engine.dispose()
