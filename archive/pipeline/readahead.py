"""Read the next batch's index postings in a thread while the writer places the current one.

On a large SQLite archive a good part of the one writer's time goes to looking up a batch's keys
in B-trees far larger than the page cache: the copy LSH's bands, the event terms' newest
postings, the exact text hashes. SQLite does that work in C without the interpreter lock, so a
second thread with its own connection can do it for batch N+1 while the writer's thread places
batch N, on the core the preparing workers leave free once the writer sets the pace.

Those postings only ever grow (articles and their keys are added, never changed), so what the
thread read is still right when batch N+1 is placed, except that it may miss batch N's own
articles when it read before batch N was committed. The placer knows exactly which keys batch N
wrote and adds them (`archive.pipeline.store.Placer.reads_ahead_for`); the index's mark (largest
article id, index generation) tells which case holds, and when anybody else wrote meanwhile the
reads are dropped and made again in the writer's transaction. The batch's source phrases' folded
counts are read there too; they change only when the writer folds, which the fold generation
they were read at shows (`archive.db.phrases.read_folded`).

Which batch is read ahead and when is fixed by the order of the batches, not by timing. The next
batch is taken from the workers before the current one is placed, on every database (PostgreSQL
reads nothing ahead): taking a batch lets the workers start on another, with the source
boilerplate learned so far, so taking them the same way keeps a run's results the same whatever
the database and the thread.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

# The page cache of the thread's connection: enough for the upper levels of the indexes it seeks
# in; the leaves it reads are spread over the whole archive and are rarely read twice.
SQLITE_CACHE_MB = 8
SQLITE_STATEMENTS = 16  # its few statements (`archive.db.engine.SQLITE_STATEMENTS`)

B = TypeVar("B")
R = TypeVar("R")


def read_ahead(batches: Iterable[B], read: Callable[[B], R] | None) -> Iterator[tuple[B, Future | None]]:
    """(batch, future of `read(batch)` or None) in order: each batch is taken from `batches` before
    the one in front of it is handed out, and its read starts then in a thread, so it runs while
    the caller places that one (`read` None: the batches are taken the same way, nothing is read).
    A failed read gives a future holding its exception; closing the generator waits for the read
    in flight."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") if read else None
    try:
        iterator = iter(batches)
        current = next(iterator, None)
        reads: Future | None = None
        while current is not None:
            following = next(iterator, None)
            following_reads = executor.submit(read, following) if executor and following is not None else None
            yield current, reads
            current, reads = following, following_reads
    finally:
        if executor:
            executor.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def snapshot(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session of `factory` whose reads all see one snapshot of an SQLite archive (an explicit
    BEGIN: else every statement reads a snapshot of its own), rolled back when the block ends."""
    with factory() as session:
        session.connection().exec_driver_sql("BEGIN")
        try:
            yield session
        finally:
            session.rollback()


def result_or_none(future: Future | None, what: str) -> R | None:
    """The read's result, or None (logged) when it failed: the writer then reads for itself."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception as exc:  # a locked or lost database: the writer's own reads report it if it lasts
        log.info("reading %s ahead failed (%s: %s); the writer reads it itself", what, type(exc).__name__, exc)
        return None
