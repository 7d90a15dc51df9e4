"""Queries on the runs table (`ingest_runs`): the history shown by `archive runs`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.db.models import IngestRun, utcnow

COUNTS = ("read", "new", "copies", "duplicates", "rejected", "events_touched")


def recent(session: Session, limit: int = 20, job_name: str | None = None) -> list[IngestRun]:
    q = select(IngestRun).order_by(IngestRun.id.desc()).limit(limit)
    if job_name is not None:
        q = q.where(IngestRun.job_name == job_name)
    return list(session.scalars(q))


def last_of_job(session: Session, job_name: str) -> IngestRun | None:
    return session.scalars(select(IngestRun).where(IngestRun.job_name == job_name)
                           .order_by(IngestRun.id.desc()).limit(1)).first()


def crawl_run(session: Session, run_id: int | None, source: str, since) -> IngestRun | None:
    """The run row a crawl child wrote: by the id it reported, else its source's newest since `since`."""
    if run_id is not None:
        return session.get(IngestRun, run_id)
    return session.scalars(select(IngestRun).where(IngestRun.kind == "crawl", IngestRun.job_name == source,
                                                   IngestRun.started_at >= since)
                           .order_by(IngestRun.id.desc()).limit(1)).first()


def close_abandoned(session: Session, host: str, is_dead: Callable[[int], bool]) -> list[int]:
    """Mark `running` rows of dead processes on this host as failed; returns their ids."""
    closed = []
    for run in session.scalars(select(IngestRun).where(IngestRun.status == "running", IngestRun.host == host)):
        if run.pid is not None and is_dead(run.pid):
            run.status, run.finished_at = "failed", utcnow()
            run.error = f"abandoned: process {run.pid} on {host} ended without finishing the run"
            closed.append(run.id)
    return closed


def as_dict(run: IngestRun) -> dict[str, Any]:
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "id": run.id,
        "kind": run.kind,
        "job_name": run.job_name,
        "started_at": run.started_at.isoformat(sep=" ", timespec="seconds"),
        "finished_at": run.finished_at.isoformat(sep=" ", timespec="seconds") if run.finished_at else None,
        "duration_s": round(duration, 3) if duration is not None else None,
        "status": run.status,
        **{field: getattr(run, field) for field in COUNTS},
        "error": run.error,
        "args": run.args,
        "host": run.host,
        "pid": run.pid,
    }
