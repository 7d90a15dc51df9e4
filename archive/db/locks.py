"""Locks that make concurrent placement equal to a serial one, and the retry of what they cannot prevent.

Two ingest processes placing copies of one text at the same moment would each miss the other's
uncommitted article and open two copy clusters. So a placement transaction first locks what its
articles are looked up by (their copy and event band keys, raw-bytes hash, URL and source name):

- PostgreSQL: transaction-scoped advisory locks (`pg_advisory_xact_lock`) on those keys folded
  into `LOCK_STRIPES` stripes, taken in ascending order (so two transactions never wait on each
  other in a cycle) before the first candidate lookup. Two articles that could be candidates for
  each other share a band key, hence a stripe, so the second waits for the first to commit and
  then sees it (READ COMMITTED reads what was committed before each statement). Folding into
  stripes bounds the locks a batch holds, whatever its size. Clusters reached through different
  keys are read `FOR UPDATE` (`archive.db.bulk.clusters`), so their sizes and centroids are never
  updated from a stale read; a deadlock between such row locks is resolved by the server and the
  batch retried (`retryable`).
- SQLite: one writer at a time is the database's own rule; a no-op write takes the write lock
  before the first read (waiting up to the busy timeout), so nothing is read from a snapshot
  another process is about to change.
"""

from __future__ import annotations

from collections.abc import Iterable

import xxhash
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

LOCK_STRIPES = 256
# First key of the two-key advisory lock form: the archive's placement namespace.
LOCK_NAMESPACE = 0x6172  # "ar"
# SQLSTATEs a transaction may simply run again: serialization failure, deadlock detected.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5


def stripes(keys: Iterable[int | str]) -> list[int]:
    """The sorted distinct lock stripes of band keys (ints) and names, hashes or URLs (strings)."""
    out = set()
    for key in keys:
        if isinstance(key, str):
            key = xxhash.xxh64_intdigest(key.encode("utf-8", "surrogatepass"))
        out.add(key % LOCK_STRIPES)
    return sorted(out)


def lock_for_placement(session: Session, keys: Iterable[int | str]) -> None:
    """Take the placement locks for `keys` in the session's transaction (held until it ends)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # unnest returns the array in order: the locks are taken in ascending stripe order.
        session.execute(text("SELECT count(pg_advisory_xact_lock(CAST(:ns AS int), s)) FROM unnest(CAST(:stripes AS int[])) AS s"),
                        {"ns": LOCK_NAMESPACE, "stripes": stripes(keys)})
    elif dialect == "sqlite":
        session.execute(text("DELETE FROM archive_meta WHERE 0"))  # takes the write lock, changes nothing


def retryable(exc: BaseException) -> bool:
    """A serialization failure or deadlock: the transaction was rolled back and can run again."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, DBAPIError) and getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES
