"""The scheduler: APScheduler 3 with its job store in the archive database.

Schedules live in the `apscheduler_jobs` table (created by an Alembic migration, never by
APScheduler), so they survive restarts and every scheduler process pointed at the same database
shares them. Each job has a stable id (its name), `max_instances=1`, coalescing, and no misfire
limit: runs missed while no scheduler was up are run once, on start, however late.

APScheduler 3 does not coordinate several schedulers on one job store; `ArchiveJobStore` does:
a due run is claimed with a compare-and-set on the job's next run time, so exactly one scheduler
gets it, and the job's database lock (`archive.locks`) keeps a long run from overlapping the next.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import threading
from typing import Any

from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime
from sqlalchemy import select, update

from archive import jobs
from archive.api import Archive
from archive.db import runs
from archive.errors import ScheduleError
from archive.jobs import CRAWL, LOAD, JobRunner, JobSpec
from archive.locks import DEFAULT_TTL_SECONDS, pid_is_dead

log = logging.getLogger(__name__)

JOB_FUNC = "archive.jobs:run_scheduled"
JOB_DEFAULTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
DEFAULT_POLL_SECONDS = 5.0
DEFAULT_THREADS = 4
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_EVERY_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ArchiveJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store on the archive's engine, with claimed due runs."""

    def start(self, scheduler, alias):
        BaseJobStore.start(self, scheduler, alias)  # the table comes from the migration

    def get_due_jobs(self, now: dt.datetime):
        if self._scheduler.state != STATE_RUNNING:  # a paused or stopping scheduler claims nothing
            return []
        return self.claim_due(now)

    def claim_due(self, now: dt.datetime) -> list:
        """The jobs due at `now` whose run this process won; each due run goes to one process only."""
        table = self.jobs_t
        with self.engine.begin() as conn:
            rows = conn.execute(select(table.c.id, table.c.next_run_time, table.c.job_state)
                                .where(table.c.next_run_time <= datetime_to_utc_timestamp(now))
                                .order_by(table.c.next_run_time)).all()
        claimed = []
        for row in rows:
            try:
                job = self._reconstitute_job(row.job_state)
            except Exception:
                self._logger.exception("cannot restore job %s; it is left in the store", row.id)
                continue
            # The column is the truth: a process may have died between claiming and saving the state.
            job.next_run_time = utc_timestamp_to_datetime(row.next_run_time)
            run_times = job._get_run_times(now)
            if not run_times:
                continue
            following = job.trigger.get_next_fire_time(run_times[-1], now)
            with self.engine.begin() as conn:
                won = conn.execute(
                    update(table).where(table.c.id == row.id, table.c.next_run_time == row.next_run_time)
                    .values(next_run_time=datetime_to_utc_timestamp(following))
                ).rowcount == 1
            if won:
                job.kwargs = {**job.kwargs, "scheduled_for": run_times[-1].isoformat()}
                claimed.append(job)
        return claimed


class ArchiveScheduler(BackgroundScheduler):
    """A background scheduler whose loop survives a briefly unreachable database."""

    def _process_jobs(self):
        # APScheduler 3 processes jobs once more after shutdown() (and in a paused-then-stopped
        # scheduler such as the one `archive schedule` uses): that pass would claim runs it cannot run.
        if self.state != STATE_RUNNING:
            return None
        try:
            return super()._process_jobs()
        except Exception as exc:  # the database is briefly unreachable: look again at the next poll
            log.error("looking for due jobs failed: %s", str(exc).splitlines()[0])
            return self.jobstore_retry_interval


def build_scheduler(archive: Archive, threads: int = DEFAULT_THREADS) -> ArchiveScheduler:
    """A scheduler on the archive's job store (not started)."""
    archive.require_schema()
    return ArchiveScheduler(
        jobstores={"default": ArchiveJobStore(engine=archive.engine)},
        executors={"default": {"type": "threadpool", "max_workers": threads}},
        job_defaults=JOB_DEFAULTS,
    )


def parse_every(every: str) -> dt.timedelta:
    """`30m` -> 30 minutes; units s, m, h, d."""
    match = _EVERY_RE.match(every)
    if not match or int(match.group(1)) == 0:
        raise ScheduleError(f"--every {every!r}: give a positive number and a unit s, m, h or d, e.g. 30m")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def make_trigger(every: str | None, cron: str | None):
    if bool(every) == bool(cron):
        raise ScheduleError("give exactly one of --every (e.g. 30m) or --cron (e.g. \"*/15 * * * *\")")
    if every:
        return IntervalTrigger(seconds=parse_every(every).total_seconds())
    try:
        return CronTrigger.from_crontab(cron)
    except ValueError as exc:
        raise ScheduleError(f"--cron {cron!r} is not a crontab expression (minute hour day month weekday): {exc}") \
            from None


class Schedules:
    """Add, list, pause, resume, remove and run schedules, from any process (no scheduler needed)."""

    def __init__(self, archive: Archive):
        self.archive = archive

    def _scheduler(self) -> ArchiveScheduler:
        scheduler = build_scheduler(self.archive)
        scheduler.start(paused=True)  # opens the job store; a paused scheduler runs nothing
        return scheduler

    def _job(self, scheduler: ArchiveScheduler, name: str):
        job = scheduler.get_job(name)
        if job is None:
            raise ScheduleError(f"no schedule named {name!r}: `archive schedule list` shows them")
        return job

    def add(self, name: str, kind: str, target: str, every: str | None = None, cron: str | None = None,
            now: bool = False) -> dict:
        """Add a schedule; its first run is one interval (or the next cron time) away, or due at once with `now`."""
        if not _NAME_RE.match(name):
            raise ScheduleError(f"schedule name {name!r}: use letters, digits, '.', '_' or '-' (at most 100)")
        if kind not in (LOAD, CRAWL):
            raise ScheduleError(f"unknown job kind {kind!r}: load or crawl")
        trigger = make_trigger(every, cron)
        if kind == LOAD:
            target = _absolute(target)
        scheduler = self._scheduler()
        try:
            extra = {"next_run_time": dt.datetime.now(dt.timezone.utc)} if now else {}
            scheduler.add_job(JOB_FUNC, trigger, id=name, name=name,
                              kwargs={"name": name, "kind": kind, "target": target}, **extra)
        except ConflictingIdError:
            raise ScheduleError(f"a schedule named {name!r} exists: remove it first or pick another name") \
                from None
        finally:
            scheduler.shutdown(wait=False)
        return self.get(name)

    def list(self) -> list[dict[str, Any]]:
        scheduler = self._scheduler()
        try:
            found = scheduler.get_jobs()
        finally:
            scheduler.shutdown(wait=False)
        with self.archive.factory() as session:
            return [self._describe(session, job) for job in found]

    def get(self, name: str) -> dict[str, Any]:
        scheduler = self._scheduler()
        try:
            job = self._job(scheduler, name)
        finally:
            scheduler.shutdown(wait=False)
        with self.archive.factory() as session:
            return self._describe(session, job)

    def spec(self, name: str) -> JobSpec:
        scheduler = self._scheduler()
        try:
            job = self._job(scheduler, name)
        finally:
            scheduler.shutdown(wait=False)
        return JobSpec(job.kwargs["name"], job.kwargs["kind"], job.kwargs["target"])

    def pause(self, name: str) -> dict:
        return self._change(name, "pause_job")

    def resume(self, name: str) -> dict:
        return self._change(name, "resume_job")

    def remove(self, name: str) -> None:
        scheduler = self._scheduler()
        try:
            scheduler.remove_job(name)
        except JobLookupError:
            raise ScheduleError(f"no schedule named {name!r}: `archive schedule list` shows them") from None
        finally:
            scheduler.shutdown(wait=False)

    def _change(self, name: str, method: str) -> dict:
        scheduler = self._scheduler()
        try:
            getattr(scheduler, method)(name)
        except JobLookupError:
            raise ScheduleError(f"no schedule named {name!r}: `archive schedule list` shows them") from None
        finally:
            scheduler.shutdown(wait=False)
        return self.get(name)

    def run_now(self, name: str, lock_ttl: float = DEFAULT_TTL_SECONDS):
        """Run a schedule's job in this process, now, under its lock; None if another process runs it."""
        runner = JobRunner(self.archive.settings, lock_ttl)
        return runner.run(self.spec(name), dt.datetime.now(dt.timezone.utc).isoformat())

    def _describe(self, session, job) -> dict[str, Any]:
        last = runs.last_of_job(session, job.id)
        return {
            "name": job.id,
            "kind": job.kwargs.get("kind"),
            "target": job.kwargs.get("target"),
            "trigger": _trigger_text(job.trigger),
            "paused": job.next_run_time is None,
            "next_run": _utc_text(job.next_run_time) if job.next_run_time else None,
            "last_run": _utc_text(last.started_at.replace(tzinfo=dt.timezone.utc)) if last else None,
            "last_status": last.status if last else None,
            "last_error": last.error if last else None,
        }


def _trigger_text(trigger) -> str:
    if isinstance(trigger, IntervalTrigger):
        return f"every {_duration_text(trigger.interval)}"
    if isinstance(trigger, CronTrigger):
        fields = {f.name: str(f) for f in trigger.fields}
        return " ".join(fields[k] for k in ("minute", "hour", "day", "month", "day_of_week"))
    return str(trigger)


def _utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(sep=" ", timespec="seconds")


def _duration_text(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _absolute(target: str) -> str:
    """Load targets are stored absolute: the scheduler may run from another directory."""
    return os.path.abspath(os.path.expanduser(target))


def run_scheduler(archive: Archive, stop: threading.Event, poll: float = DEFAULT_POLL_SECONDS,
                  lock_ttl: float = DEFAULT_TTL_SECONDS, threads: int = DEFAULT_THREADS) -> None:
    """Run due jobs until `stop` is set; then let runs in flight finish their article, start no new one.

    The store is looked at every `poll` seconds as well as at each job's time, so schedules added,
    paused or removed by other processes take effect within a poll.
    """
    runner = JobRunner(archive.settings, lock_ttl)
    scheduler = build_scheduler(archive, threads)
    with archive.factory() as session, session.begin():
        # Before this scheduler starts any run, a row with its own pid is an earlier incarnation's.
        closed = runs.close_abandoned(session, socket.gethostname(),
                                      lambda pid: pid == os.getpid() or pid_is_dead(pid))
    if closed:
        log.warning("runs %s were left running by processes that died; marked failed", closed)
    jobs.set_runner(runner)
    scheduler.start()
    log.info("scheduler started on %s (pid %d), %d schedule(s)", archive.url, os.getpid(), len(scheduler.get_jobs()))
    try:
        while not stop.wait(poll):
            scheduler.wakeup()
    finally:
        log.info("stopping: runs in flight finish their current batch; no new job starts")
        scheduler.pause()
        runner.stop()
        scheduler.shutdown(wait=True)
        jobs.set_runner(None)
        log.info("scheduler stopped")
