"""The ingest run: documents in, articles placed, one transaction per article, one row per run.

Every input ends as exactly one of: new (a text the archive did not hold), copy (a new article
whose text is a reprint of an archived one), duplicate (these exact bytes, or this URL, are
already archived: nothing is written) or rejected (recorded in `rejected_inputs` with the reason).
A failure on one input is recorded and the run goes on; an article, its band keys and its cluster
placement commit together, so a crash leaves no half-stored article.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Iterable

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db import queries
from archive.db.models import IngestRun, RejectedInput as RejectedRow, utcnow
from archive.errors import RejectedInput, SketchMismatch
from archive.pipeline import extract as extraction
from archive.pipeline.extract import Document
from archive.pipeline.fingerprint import fingerprint
from archive.pipeline.loaders import Rejection
from archive.pipeline.store import Outcome, Placer

log = logging.getLogger(__name__)

SKETCH_KEY = "sketch_config"
EVENT_SKETCH_KEY = "event_sketch_config"


@dataclasses.dataclass
class Summary:
    run_id: int | None = None
    read: int = 0
    new: int = 0
    copies: int = 0
    duplicates: int = 0
    rejected: int = 0
    events_touched: int = 0
    status: str = "running"
    error: str | None = None
    rejections: list[Rejection] = dataclasses.field(default_factory=list)
    started_at: dt.datetime = dataclasses.field(default_factory=utcnow)
    finished_at: dt.datetime | None = None

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["rejections"] = [dataclasses.asdict(r) for r in self.rejections]
        d["started_at"] = self.started_at.isoformat()
        d["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return d


ProgressCallback = Callable[[Summary, "Document | Rejection"], None]


def check_sketch(session: Session, settings: Settings) -> None:
    """Record the sketch parameters on first use; refuse to mix signatures made with others."""
    for key, value in ((SKETCH_KEY, settings.sketch.to_json()), (EVENT_SKETCH_KEY, settings.event_sketch.to_json())):
        stored = queries.get_meta(session, key)
        if stored is None:
            queries.set_meta(session, key, value)
        elif stored != value:
            raise SketchMismatch(
                f"the archive's signatures were made with {stored}, the configuration says {value}: "
                "restore the old [sketch] settings or rebuild the archive with the new ones"
            )


class Ingestor:
    """Runs documents through extract, fingerprint and placement against one database."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session]):
        self.settings = settings
        self.factory = factory
        self.placer = Placer(settings)
        self._stop = False

    def request_stop(self) -> None:
        """Finish the article in flight, then stop (for SIGTERM in the scheduler)."""
        self._stop = True

    def start_run(self, kind: str, args: dict, job_name: str | None = None) -> Summary:
        with self.factory() as session, session.begin():
            check_sketch(session, self.settings)
            run = IngestRun(kind=kind, job_name=job_name, args=args, host=socket.gethostname(), pid=os.getpid())
            session.add(run)
            session.flush()
            return Summary(run_id=run.id, started_at=run.started_at)

    def finish_run(self, summary: Summary, status: str | None = None, error: str | None = None) -> Summary:
        summary.status = status or ("interrupted" if self._stop else "ok")
        summary.error = error
        summary.finished_at = utcnow()
        with self.factory() as session, session.begin():
            run = session.get(IngestRun, summary.run_id)
            run.status, run.error, run.finished_at = summary.status, error, summary.finished_at
            for field in ("read", "new", "copies", "duplicates", "rejected", "events_touched"):
                setattr(run, field, getattr(summary, field))
        return summary

    def run(self, items: Iterable[Document | Rejection], kind: str = "ingest", args: dict | None = None,
            job_name: str | None = None, progress: ProgressCallback | None = None) -> Summary:
        summary = self.start_run(kind, args or {}, job_name)
        try:
            for item in items:
                self.add(item, summary)
                if progress:
                    progress(summary, item)
                if self._stop:
                    break
        except KeyboardInterrupt:
            self.finish_run(summary, "interrupted", "stopped by the user")
            raise
        except Exception as exc:
            log.exception("ingest run %s failed", summary.run_id)
            self.finish_run(summary, "failed", f"{type(exc).__name__}: {exc}")
            raise
        return self.finish_run(summary)

    def add(self, item: Document | Rejection, summary: Summary) -> Outcome | None:
        """Process one input in its own transaction; a rejection is recorded, never raised."""
        summary.read += 1
        if isinstance(item, Rejection):
            self._reject(summary, item)
            return None
        try:
            extracted = extraction.extract(item)
            fp = fingerprint(extracted, self.settings.sketch, self.settings.event_sketch)
        except RejectedInput as exc:
            self._reject(summary, Rejection(item.location, exc.reason, exc.detail, item.sha256))
            return None
        except (ValueError, TypeError, RecursionError, MemoryError) as exc:
            self._reject(summary, Rejection(item.location, "unprocessable", f"{type(exc).__name__}: {exc}"[:500],
                                            item.sha256))
            return None
        with self.factory() as session, session.begin():
            outcome = self.placer.place(session, item, extracted, fp, summary.run_id)
        self._count(summary, outcome)
        return outcome

    def _count(self, summary: Summary, outcome: Outcome) -> None:
        if outcome.status == "duplicate":
            summary.duplicates += 1
        elif outcome.status == "copy":
            summary.copies += 1
            summary.events_touched += 1
        else:
            summary.new += 1
            summary.events_touched += 1

    def _reject(self, summary: Summary, rejection: Rejection) -> None:
        summary.rejected += 1
        if len(summary.rejections) < 1000:  # the full list is in rejected_inputs
            summary.rejections.append(rejection)
        log.warning("rejected %s: %s (%s)", rejection.location, rejection.reason, rejection.detail)
        try:
            with self.factory() as session, session.begin():
                session.add(RejectedRow(run_id=summary.run_id, location=rejection.location[:4000],
                                        reason=rejection.reason, detail=rejection.detail[:4000],
                                        sha256=rejection.sha256))
        except OperationalError:
            log.exception("could not record the rejection of %s", rejection.location)
            raise
