"""Incremental loading for load jobs: only files new or changed since the job's last run.

A file is known by its content hash (`loaded_files`, per job), so a renamed or copied file is not
new and an edited file is. A file is marked loaded once every document in it has been processed
(stored, found duplicate or rejected); a run stopped part-way leaves the rest for the next run.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import LoadedFile
from archive.errors import WatchedPathMissing
from archive.pipeline.extract import Document
from archive.pipeline.loaders import Item, Rejection, load_file, walk

GLOB_CHARS = set("*?[")
_QUERY_CHUNK = 500


def is_glob(target: str) -> bool:
    return any(ch in target for ch in GLOB_CHARS)


def watched_files(target: str) -> Iterator[Path | Rejection]:
    """Files under a folder, a file, or every match of a glob (`**` recurses); a missing folder raises."""
    if is_glob(target):
        yield from walk(sorted(glob.glob(target, recursive=True)))
        return
    if not Path(target).exists():
        raise WatchedPathMissing(f"{target} does not exist: create it, mount it, or fix the schedule")
    yield from walk([target])


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def new_files(session: Session, job_name: str, target: str) -> Iterator[tuple[Path, str] | Rejection]:
    """(path, content hash) of each file the job has not loaded yet, each content once."""
    hashed: list[tuple[Path, str]] = []
    for entry in watched_files(target):
        if isinstance(entry, Rejection):
            yield entry
            continue
        try:
            hashed.append((entry, file_sha256(entry)))
        except OSError as exc:
            yield Rejection(str(entry), "unreadable", str(exc))
    known: set[str] = set()
    for start in range(0, len(hashed), _QUERY_CHUNK):
        chunk = {sha for _, sha in hashed[start:start + _QUERY_CHUNK]}
        known.update(session.scalars(select(LoadedFile.sha256).where(
            LoadedFile.job_name == job_name, LoadedFile.sha256.in_(chunk))))
    for path, sha in hashed:
        if sha not in known:
            known.add(sha)
            yield path, sha


class IncrementalLoad:
    """The documents of a load job's new files, and the bookkeeping of which files are done.

    `items()` feeds the ingest run; `processed(summary, item)` is its progress callback, called
    after each item is committed: when the item is the last of its file, the file is marked loaded.
    Items are matched by location (unique within a run), since batches may be prepared in other
    processes and come back as copies.
    """

    def __init__(self, factory: sessionmaker[Session], job_name: str, target: str):
        self.factory, self.job_name, self.target = factory, job_name, target
        self._file_ends: dict[str, tuple[Path, str]] = {}  # location of a file's last item -> file
        self.files = 0

    def check(self) -> None:
        """Raise WatchedPathMissing when the job's folder or file is not there (a glob may match nothing)."""
        if not is_glob(self.target) and not Path(self.target).exists():
            raise WatchedPathMissing(f"{self.target} does not exist: create it, mount it, or fix the schedule")

    def items(self) -> Iterator[Item]:
        with self.factory() as session:
            pending = list(new_files(session, self.job_name, self.target))
        for entry in pending:
            if isinstance(entry, Rejection):
                yield entry
                continue
            path, sha = entry
            self.files += 1
            previous: Item | None = None
            for item in load_file(path):
                if previous is not None:
                    yield previous
                previous = item
            if previous is None:  # a file with no documents (an empty JSONL file) is done
                self._mark(path, sha)
                continue
            self._file_ends[previous.location] = (path, sha)
            yield previous

    def processed(self, _summary, item: Document | Rejection) -> None:
        done = self._file_ends.pop(item.location, None)
        if done:
            self._mark(*done)

    def _mark(self, path: Path, sha: str) -> None:
        with self.factory() as session, session.begin():
            session.merge(LoadedFile(job_name=self.job_name, sha256=sha, path=str(path)))
