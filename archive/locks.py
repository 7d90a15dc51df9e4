"""A lock per job name in the archive database, so two schedulers never run one job at once.

PostgreSQL: a session-level `pg_try_advisory_lock` on a connection held for the job's duration;
the server releases it when that connection ends, so a killed holder frees it at once.

SQLite (and any other database): a row in `job_locks` with an expiry time, renewed by a heartbeat
thread while the job runs. A holder killed with SIGKILL stops renewing and its row expires; on the
same host a row whose holder process no longer exists is taken over at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import threading
import uuid

from sqlalchemy import Engine, delete, select, text, update
from sqlalchemy.exc import IntegrityError

from archive.db.models import JobLock, utcnow

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 60.0
# One token per process: a holder string names host, pid and this token, so a restarted process
# that happens to get the same pid (pid 1 in a container) still recognises the old holder as dead.
_PROCESS_TOKEN = uuid.uuid4().hex[:12]


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_TOKEN}"


def _holder_is_dead(holder: str) -> bool:
    """True when the holder ran on this host and its process is gone (or was an earlier incarnation)."""
    try:
        host, pid_text, token = holder.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    if pid == os.getpid():
        return token != _PROCESS_TOKEN
    return pid_is_dead(pid)


def pid_is_dead(pid: int) -> bool:
    """True when no process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # the process exists under another user
        return False
    return False


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock` (the same in every process)."""
    digest = hashlib.blake2b(f"archive-job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class RowLock:
    """A `job_locks` row with expiry, renewed while held."""

    def __init__(self, engine: Engine, name: str, ttl: float = DEFAULT_TTL_SECONDS):
        self.engine, self.name, self.ttl = engine, name, ttl
        self.holder = holder_id()
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def _expiry(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.ttl)

    def acquire(self) -> bool:
        with self.engine.begin() as conn:
            row = conn.execute(select(JobLock.holder, JobLock.expires_at).where(JobLock.name == self.name)).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(JobLock.__table__.insert().values(
                            name=self.name, holder=self.holder, expires_at=self._expiry()))
                except IntegrityError:  # another process inserted it first
                    return False
            else:
                if row.expires_at > utcnow() and not _holder_is_dead(row.holder):
                    return False
                log.warning("taking over the lock of job %s from %s (%s)", self.name, row.holder,
                            "expired" if row.expires_at <= utcnow() else "process gone")
                # Compare-and-set on the old holder and expiry: of two contenders, one wins.
                taken = conn.execute(
                    update(JobLock)
                    .where(JobLock.name == self.name, JobLock.holder == row.holder,
                           JobLock.expires_at == row.expires_at)
                    .values(holder=self.holder, expires_at=self._expiry())
                ).rowcount
                if taken != 1:
                    return False
        self._heartbeat = threading.Thread(target=self._renew, name=f"lock-{self.name}", daemon=True)
        self._heartbeat.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                with self.engine.begin() as conn:
                    renewed = conn.execute(
                        update(JobLock).where(JobLock.name == self.name, JobLock.holder == self.holder)
                        .values(expires_at=self._expiry())
                    ).rowcount
                if renewed != 1:
                    log.error("the lock of job %s was taken over by another process", self.name)
                    return
            except Exception:  # a briefly unreachable database: try again at the next beat
                log.warning("could not renew the lock of job %s", self.name, exc_info=True)

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(JobLock).where(JobLock.name == self.name, JobLock.holder == self.holder))
        except Exception as exc:  # the row expires on its own
            log.warning("could not release the lock of job %s: %s", self.name, str(exc).splitlines()[0])


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on a dedicated connection."""

    def __init__(self, engine: Engine, name: str):
        self.engine, self.name, self.key = engine, name, advisory_key(name)
        self._conn = None

    def acquire(self) -> bool:
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception as exc:  # the session is gone, and the lock with it
            log.warning("could not release the lock of job %s: %s", self.name, str(exc).splitlines()[0])
        finally:
            # Closing would return a session-locked connection to the pool: drop it instead.
            self._conn.invalidate()
            self._conn.close()
            self._conn = None


def job_lock(engine: Engine, name: str, ttl: float = DEFAULT_TTL_SECONDS) -> RowLock | AdvisoryLock:
    """The lock for job `name`: advisory on PostgreSQL, a row with expiry elsewhere."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, name)
    return RowLock(engine, name, ttl)
