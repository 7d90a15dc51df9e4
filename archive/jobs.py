"""What a scheduled job does: a load job ingests new files, a crawl job runs the spider in a child.

Every run takes the job's database lock first (`archive.locks`), so two schedulers never run one
job at once, and leaves one row in `ingest_runs` named after the schedule (job_name) with its
counts, status and error: kind "scheduled" for a load job; for a crawl job, the row the crawl
itself writes (kind "crawl"), renamed, or a failed one when the crawl could not start it. A run
that fails is recorded and never stops the scheduler.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from archive.api import Archive
from archive.config import Settings
from archive.db import runs
from archive.db.models import utcnow
from archive.db.runs import COUNTS
from archive.errors import ArchiveError
from archive.locks import DEFAULT_TTL_SECONDS, job_lock
from archive.pipeline.ingest import Ingestor, Summary

log = logging.getLogger(__name__)

LOAD = "load"
CRAWL = "crawl"
RUN_KIND = "scheduled"
_ERROR_TAIL = 2000


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """A schedule's job: `kind` is load (target: folder, file or glob) or crawl (target: source name)."""

    name: str
    kind: str
    target: str

    def describe(self) -> str:
        return f"{self.kind} {self.target}"


class JobRunner:
    """Runs jobs for one process. `stop()` makes runs in flight finish their current batch and end,
    stops crawl children the way Ctrl-C would, and refuses new runs."""

    def __init__(self, settings: Settings, lock_ttl: float = DEFAULT_TTL_SECONDS):
        self.settings = settings
        self.lock_ttl = lock_ttl
        self.stopping = threading.Event()
        self._guard = threading.Lock()
        self._ingestors: set[Ingestor] = set()
        self._children: set[subprocess.Popen] = set()

    def stop(self) -> None:
        self.stopping.set()
        with self._guard:
            for ingestor in self._ingestors:
                ingestor.request_stop()
            for child in self._children:  # `archive crawl` stops its crawler cleanly on SIGINT
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)

    def run(self, spec: JobSpec, scheduled_for: str | None = None) -> Summary | None:
        """Run one job now; None when it did not run (stopping, or another process holds its lock)."""
        if self.stopping.is_set():
            log.info("job %s not started: the scheduler is stopping", spec.name)
            return None
        args = {"scheduled_for": scheduled_for} if scheduled_for else {}
        with Archive(self.settings) as archive:
            try:
                lock = job_lock(archive.engine, spec.name, self.lock_ttl)
                if not lock.acquire():
                    log.info("job %s skipped: another process is running it", spec.name)
                    return None
            except Exception as exc:  # the database is unreachable: the next slot tries again
                return self._unrecorded_failure(archive, spec, args, exc)
            try:
                log.info("job %s started: %s", spec.name, spec.describe())
                summary = self._run_locked(archive, spec, args)
            except Exception as exc:
                summary = self._unrecorded_failure(archive, spec, args, exc)
            finally:
                lock.release()
        log.info("job %s ended: %s, read %d, new %d, copies %d, duplicates %d, rejected %d%s", spec.name,
                 summary.status, summary.read, summary.new, summary.copies, summary.duplicates, summary.rejected,
                 f" ({summary.error})" if summary.error else "")
        return summary

    def _unrecorded_failure(self, archive: Archive, spec: JobSpec, args: dict[str, Any], exc: Exception) -> Summary:
        """Record a run that failed before it could write its own row (best effort: the database may be down)."""
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:_ERROR_TAIL]
        log.error("job %s failed: %s", spec.name, error)
        try:
            ingestor = archive.ingestor
            kind = RUN_KIND if spec.kind == LOAD else CRAWL
            return ingestor.finish_run(ingestor.start_run(kind, {spec.kind: spec.target, **args}, spec.name),
                                       "failed", error)
        except Exception as again:
            log.error("job %s: the failure could not be recorded either: %s", spec.name, str(again).splitlines()[0])
            return Summary(status="failed", error=error)

    def _run_locked(self, archive: Archive, spec: JobSpec, args: dict[str, Any]) -> Summary:
        ingestor = archive.ingestor
        with self._guard:
            self._ingestors.add(ingestor)
        try:
            if spec.kind == LOAD:
                return self._load(archive, spec, args)
            if spec.kind == CRAWL:
                return self._crawl(archive, spec, args)
            raise ArchiveError(f"job {spec.name} has an unknown kind {spec.kind!r}")
        finally:
            with self._guard:
                self._ingestors.discard(ingestor)

    def _load(self, archive: Archive, spec: JobSpec, args: dict[str, Any]) -> Summary:
        begun = utcnow()
        try:
            return archive.load_new(spec.target, spec.name, kind=RUN_KIND, args=args)
        except Exception as exc:  # recorded as failed in the run's row, unless the row could not be written
            log.error("job %s failed: %s", spec.name, exc)
            with archive.factory() as session:
                last = runs.last_of_job(session, spec.name)
            if last is None or last.started_at < begun:
                return Summary(status="failed", error=f"{type(exc).__name__}: {exc}")
            return Summary(run_id=last.id, status="failed", error=last.error)

    def _crawl(self, archive: Archive, spec: JobSpec, args: dict[str, Any]) -> Summary:
        """Run `archive crawl SOURCE --json` in a child; its run row becomes this job's (one row per run)."""
        archive.require_schema()
        started = utcnow()
        command = [sys.executable, "-m", "archive", "crawl", spec.target, "--json"]
        env = dict(os.environ, ARCHIVE_DATABASE_URL=self.settings.database_url)
        try:
            # Its own session: a Ctrl-C in the terminal reaches it once, through stop(), not twice.
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                     start_new_session=True)
        except OSError as exc:
            return self._record_crawl(archive, spec, args, started, {}, f"could not start {command[0]}: {exc}")
        with self._guard:
            self._children.add(child)
        if self.stopping.is_set() and child.poll() is None:
            child.send_signal(signal.SIGINT)
        try:
            out, err = child.communicate()
        finally:
            with self._guard:
                self._children.discard(child)
        report = crawl_report(out)
        error = None
        if child.returncode != 0 and not self.stopping.is_set():
            lines = err.decode("utf-8", "replace").strip().splitlines()
            reason = report.get("error") or (lines[-1] if lines else "no output on stderr")
            error = f"crawl exited with status {child.returncode}: {reason}"[:_ERROR_TAIL]
        return self._record_crawl(archive, spec, args, started, report, error)

    def _record_crawl(self, archive: Archive, spec: JobSpec, args: dict[str, Any], started, report: dict,
                      error: str | None) -> Summary:
        """Name the crawl's own run row after the schedule, or write one when the crawl never started it."""
        with archive.factory() as session, session.begin():
            run = runs.crawl_run(session, report.get("run_id"), spec.target, started)
            if run is not None:
                run.job_name = spec.name
                run.args = {**(run.args or {}), "schedule": spec.name, **args}
                if error and run.status in ("ok", "running"):
                    run.status, run.error = "failed", error
                    run.finished_at = run.finished_at or utcnow()
                return Summary(run_id=run.id, status=run.status, error=run.error,
                               **{field: getattr(run, field) for field in COUNTS})
        ingestor = archive.ingestor
        summary = ingestor.start_run(CRAWL, {"crawl": spec.target, "schedule": spec.name, **args}, spec.name)
        return ingestor.finish_run(summary, "failed" if error else "interrupted", error or "stopped with the scheduler")


def crawl_report(stdout: bytes) -> dict[str, Any]:
    """The JSON summary `archive crawl --json` printed (the last JSON object in its output), or {}."""
    text = stdout.decode("utf-8", "replace").strip()
    start = text.rfind("\n{")
    for candidate in (text, text[start + 1:] if start >= 0 else ""):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return {}


# APScheduler stores a textual reference to a module-level function; that function finds the
# runner of the process it runs in here (set by `archive.scheduler.run_scheduler`).
_runner: JobRunner | None = None


def set_runner(runner: JobRunner | None) -> None:
    global _runner
    _runner = runner


def run_scheduled(name: str, kind: str, target: str, scheduled_for: str | None = None) -> None:
    """The function every stored job calls."""
    if _runner is None:
        raise RuntimeError("no job runner in this process: jobs run only inside `archive scheduler run`")
    _runner.run(JobSpec(name, kind, target), scheduled_for)
