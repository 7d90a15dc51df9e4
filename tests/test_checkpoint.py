"""The background checkpointer copies committed pages into an SQLite archive's file during a run."""

from __future__ import annotations

import os
import time

from sqlalchemy import text

from archive.db.checkpoint import WalCheckpointer, background_checkpoints
from archive.db.engine import make_engine


def test_committed_pages_reach_the_database_file(tmp_path):
    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # ~4 MB: far under the writer's own checkpoint threshold
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("INSERT INTO t (body) VALUES (:body)"), [{"body": "x" * 400}] * 10_000)
    before = os.path.getsize(path)
    assert os.path.getsize(f"{path}-wal") > 3_000_000 > before  # the rows are only in the log
    checkpointer = WalCheckpointer(str(path), interval=0.05)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        checkpointer.stop()
    assert checkpointer.checkpoints > 0
    assert os.path.getsize(path) > 3_000_000
    engine.dispose()


def test_only_file_sqlite_archives_get_a_checkpointer(tmp_path):
    with background_checkpoints(make_engine("sqlite://")) as none:
        assert none is None
    with background_checkpoints(make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")) as none:
        assert none is None
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with background_checkpoints(engine) as checkpointer:
        assert checkpointer is not None and checkpointer._thread.is_alive()
    assert not checkpointer._thread.is_alive()
    engine.dispose()
