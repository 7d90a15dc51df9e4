"""Checkpoint an SQLite archive's write-ahead log from a background thread during a long run.

In WAL mode SQLite copies committed pages back into the database file ("checkpoints") inside
the commit that pushes the log past `wal_autocheckpoint` pages, so the writer stops for it; as
the archive grows each batch dirties more index pages and those pauses grow with it. A thread
with its own connection running a PASSIVE checkpoint every second does the copying beside the
writer instead (SQLite releases the GIL while it works, so it runs on another core); the
writer's own automatic checkpoint, set high for that reason (`archive.db.engine`), is only a
backstop. PASSIVE never waits for readers or writers, so the thread cannot block the run.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator

from sqlalchemy import Engine

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


class WalCheckpointer:
    def __init__(self, path: str, interval: float = INTERVAL_SECONDS):
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="wal-checkpoint", daemon=True)
        self.checkpoints = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=1.0, check_same_thread=False)
        except sqlite3.Error as exc:  # the run goes on with SQLite's own checkpoints
            log.info("no background checkpoints for %s: %s", self.path, exc)
            return
        try:
            while not self._stop.wait(self.interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # busy or locked: the next tick tries again
                    log.debug("checkpoint of %s skipped: %s", self.path, exc)
        finally:
            connection.close()


@contextlib.contextmanager
def background_checkpoints(engine: Engine | None) -> Iterator[WalCheckpointer | None]:
    """A checkpointing thread for the run when `engine` is a file SQLite archive; else nothing."""
    if engine is None or engine.dialect.name != "sqlite":
        yield None
        return
    path = engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        yield None
        return
    checkpointer = WalCheckpointer(path)
    checkpointer.start()
    try:
        yield checkpointer
    finally:
        checkpointer.stop()
