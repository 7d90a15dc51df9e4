"""The ingest run: documents in, articles placed, one transaction per batch, one row per run.

Every input ends as exactly one of: new (a text the archive did not hold), copy (a new article
whose text is a reprint of an archived one), duplicate (these exact bytes, or this URL, are
already archived: nothing is written) or rejected (recorded in `rejected_inputs` with the reason).
A failure on one input is recorded and the run goes on.

Inputs go through in batches of `batch_size` (a single article is a batch of one): decode,
extract, clean and fingerprint (`archive.pipeline.batch`, in this process or in worker
processes), then placement and writing (`Placer.place_batch`) in one transaction per batch, so a
crash leaves no half-stored article and no half-stored batch. With worker processes the writer
takes the next batch before placing one, and on SQLite a thread reads that batch's postings
meanwhile (`archive.pipeline.readahead`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import itertools
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db import bandindex, locks, phrases, queries
from archive.db.checkpoint import background_checkpoints
from archive.pipeline import collection, readahead
from archive.db.engine import first_line, make_engine, session_factory
from archive.db.models import IngestRun, RejectedInput as RejectedRow, utcnow
from archive.errors import SketchMismatch
from archive.pipeline.batch import PreparedBatch, PreparePool, Prepared, batches, joined, prepare_batch
from archive.pipeline.extract import Document
from archive.pipeline.loaders import Rejection
from archive.pipeline.boilerplate import SourceBoilerplate
from archive.pipeline.store import AheadReads, Outcome, Placer

log = logging.getLogger(__name__)

SKETCH_KEY = "sketch_config"
EVENT_SKETCH_KEY = "event_sketch_config"


@dataclasses.dataclass
class BatchReads:
    """What the read-ahead thread read for a batch (`store_all`): its postings (None: the writer
    reads them) and its source phrases' folded counts (`archive.db.phrases.read_folded`)."""

    postings: AheadReads | None = None
    folded_phrases: phrases.FoldedCounts | None = None


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
    # CPU seconds per stage (read, extract, fingerprint, candidates, place, write), summed over the
    # processes that ran it; a database server's own time is not in them
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    workers: int = 0  # processes that prepared the batches (0: this one)
    # Wall seconds the writer spent getting the next prepared batch (runs with workers): waiting
    # for the workers, and reading the input it hands them. A large share of the run means the
    # workers set its rate (more of them would help); a small one, that the writer does.
    waited: float = 0.0
    started_at: dt.datetime = dataclasses.field(default_factory=utcnow)
    finished_at: dt.datetime | None = None

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["rejections"] = [dataclasses.asdict(r) for r in self.rejections]
        d["started_at"] = self.started_at.isoformat()
        d["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return d


ProgressCallback = Callable[[Summary, "Document | Rejection"], None]


def _counting_waits(batches: Iterator[PreparedBatch], summary: Summary) -> Iterator[PreparedBatch]:
    """`batches` as they come from the workers, adding the wall time each took to arrive to
    `summary.waited`."""
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        summary.waited += time.perf_counter() - started
        if batch is None:
            return
        yield batch


def check_sketch(session: Session, settings: Settings) -> None:
    """Record the sketch parameters on first use; refuse to mix signatures made with others."""
    for key, value in ((SKETCH_KEY, settings.sketch.to_json()), (EVENT_SKETCH_KEY, settings.event_sketch.to_json())):
        stored = queries.get_meta(session, key)
        if stored is None:
            queries.set_meta(session, key, value)
        elif stored != value and not (key == EVENT_SKETCH_KEY and settings.event_sketch.same_vectors(stored)):
            raise SketchMismatch(
                f"the archive's signatures were made with {stored}, the configuration says {value}: "
                "restore the old [sketch] settings or rebuild the archive with the new ones"
            )


AUTO = -1  # workers: one per CPU when the input holds more than one batch, else none


def cpu_count() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Ingestor:
    """Runs documents through extract, fingerprint and placement against one database.

    `workers` > 0 prepares batches (decode, extract, clean, fingerprint) in that many processes
    while this process places and commits them; 0 does everything here; AUTO (the default)
    prepares the first batch here and, once the input turns out to hold a second one, starts one
    worker per CPU for the rest (a few files never pay for starting processes).
    """

    def __init__(self, settings: Settings, factory: sessionmaker[Session], workers: int = AUTO):
        self.settings = settings
        self.factory = factory
        self.workers = workers
        self.placer = Placer(settings)
        self.boilerplate = SourceBoilerplate(settings)
        self._stop = False
        self._unchecked = 0  # articles placed since the band index's recent tier was last measured

    def request_stop(self) -> None:
        """Finish the batch in flight, then stop (for SIGTERM in the scheduler)."""
        self._stop = True

    def start_run(self, kind: str, args: dict, job_name: str | None = None) -> Summary:
        with self.factory() as session, session.begin():
            locks.lock_for_placement(session, [SKETCH_KEY])  # two first runs record the parameters once
            check_sketch(session, self.settings)
            self.boilerplate.load(session)
            run = IngestRun(kind=kind, job_name=job_name, args=args, host=socket.gethostname(), pid=os.getpid())
            session.add(run)
            session.flush()
            return Summary(run_id=run.id, started_at=run.started_at)

    def finish_run(self, summary: Summary, status: str | None = None, error: str | None = None) -> Summary:
        summary.status = status or ("interrupted" if self._stop else "ok")
        summary.error = error
        self._fold_phrases(summary, 0)  # `source_phrases` holds every count between runs
        summary.finished_at = utcnow()
        for attempt in range(1, locks.MAX_ATTEMPTS + 1):
            try:
                with self.factory() as session, session.begin():
                    run = session.get(IngestRun, summary.run_id)
                    run.status, run.error, run.finished_at = summary.status, error, summary.finished_at
                    for field in ("read", "new", "copies", "duplicates", "rejected", "events_touched"):
                        setattr(run, field, getattr(summary, field))
                return summary
            except DBAPIError as exc:
                # A connection cut right after the last batch (a database restart) must not leave
                # a finished run looking as if it still ran: the pool reconnects on the next try.
                if not exc.connection_invalidated or attempt == locks.MAX_ATTEMPTS:
                    raise
                log.info("run %s: recording its end again (%s)", summary.run_id, first_line(exc))
                time.sleep(0.1 * attempt)
        raise AssertionError("unreachable")

    def run(self, items: Iterable[Document | Rejection], kind: str = "ingest", args: dict | None = None,
            job_name: str | None = None, progress: ProgressCallback | None = None,
            workers: int | None = None) -> Summary:
        """Ingest `items` as one run; `workers` overrides the number of preparing processes."""
        workers = self.workers if workers is None else workers
        summary = self.start_run(kind, args or {}, job_name)
        pool: PreparePool | None = None
        with background_checkpoints(self.factory.kw.get("bind")), collection.fewer_collections():
            try:
                chunks = batches(items, self.settings.batch_size, summary.timings)
                learned = self.boilerplate.snapshot
                if workers == AUTO:
                    first = next(chunks, None)
                    second = next(chunks, None) if first is not None else None
                    chunks = itertools.chain([c for c in (first, second) if c is not None], chunks)
                    workers = cpu_count() if second is not None else 0
                pool = PreparePool(self.settings, workers) if workers > 0 else None
                summary.workers = workers
                prepared = (_counting_waits(pool.map(chunks, learned), summary) if pool
                            else (prepare_batch(c, self.settings, learned()) for c in chunks))
                self.store_all(joined(prepared, self.settings.commit_size), summary, progress,
                               read_ahead=pool is not None)
            except KeyboardInterrupt:
                self.finish_run(summary, "interrupted", "stopped by the user")
                raise
            except Exception as exc:
                lost_database = isinstance(exc, DBAPIError)  # expected in operation: no traceback, no SQL
                brief = f"{type(exc).__name__}: {first_line(exc) if lost_database else exc}"
                log.error("ingest run %s failed: %s", summary.run_id, brief, exc_info=not lost_database)
                self.finish_run(summary, "failed", brief)
                raise
            finally:
                if pool:
                    pool.close()
        return self.finish_run(summary)

    def add(self, item: Document | Rejection, summary: Summary) -> Outcome | None:
        """Process one input as a batch of one; a rejection is recorded, never raised."""
        return self.store(prepare_batch([item], self.settings, self.boilerplate.snapshot()), summary)[0]

    def store_all(self, batches: Iterable[PreparedBatch], summary: Summary, progress: ProgressCallback | None = None,
                  read_ahead: bool = True) -> None:
        """`store` each batch in order until the run is asked to stop. With `read_ahead` the next
        batch is taken before one is placed and, on SQLite, its postings are read in a thread
        meanwhile (`archive.pipeline.readahead`); runs with preparing workers do that, since their
        next batch is usually ready (a stream trickling in, as a crawl's, would wait for it)."""
        if not read_ahead:
            for batch in batches:
                self.store(batch, summary, progress)
                if self._stop:
                    return
            return
        engine = self.factory.kw.get("bind")
        # The thread's own engine, with a small page cache: its reads seek at random through
        # indexes far larger than any cache, and every connection's cache counts in the run's memory.
        ahead_engine = (make_engine(str(engine.url), sqlite_cache_mb=readahead.SQLITE_CACHE_MB,
                                    sqlite_statements=readahead.SQLITE_STATEMENTS)
                        if engine is not None and engine.dialect.name == "sqlite" else None)
        read = functools.partial(self._read_ahead, session_factory(ahead_engine)) if ahead_engine else None
        try:
            with contextlib.closing(readahead.read_ahead(batches, read)) as ahead:
                for batch, reads in ahead:
                    self.store(batch, summary, progress, reads)
                    if self._stop:
                        return
        finally:
            if ahead_engine is not None:
                ahead_engine.dispose()

    def _read_ahead(self, factory: sessionmaker[Session], batch: PreparedBatch) -> BatchReads:
        articles = [item for item in batch.items if isinstance(item, Prepared)]
        postings = self.placer.read_ahead(factory, articles)
        with readahead.snapshot(factory) as session:  # the counts and their fold generation
            return BatchReads(postings, self.boilerplate.read_ahead(session, articles))

    def store(self, batch: PreparedBatch, summary: Summary, progress: ProgressCallback | None = None,
              reads: Future | None = None) -> list[Outcome | None]:
        """Record a prepared batch's rejections and place its articles, in one transaction
        (`reads`: the batch's postings being read ahead, see `store_all`)."""
        for stage, seconds in batch.timings.items():
            summary.timings[stage] = summary.timings.get(stage, 0.0) + seconds
        articles = [item for item in batch.items if isinstance(item, Prepared)]
        rejections = [item for item in batch.items if isinstance(item, Rejection)]
        placed = iter(self._commit(articles, rejections, summary, readahead.result_or_none(reads, "postings")
                                   or BatchReads()))
        outcomes: list[Outcome | None] = []
        for item in batch.items:
            summary.read += 1
            if isinstance(item, Rejection):
                self._count_rejection(summary, item)
                outcomes.append(None)
            else:
                outcome = next(placed)
                self._count(summary, outcome)
                outcomes.append(outcome)
            if progress:
                progress(summary, item.doc if isinstance(item, Prepared) else item)
        return outcomes

    def _commit(self, articles: list[Prepared], rejections: list[Rejection], summary: Summary,
                ahead: BatchReads) -> list[Outcome]:
        placed = self._place(articles, rejections, summary, ahead)
        self._tidy_recent_tiers(summary, len(articles))
        return placed

    def _place(self, articles: list[Prepared], rejections: list[Rejection], summary: Summary,
               ahead: BatchReads) -> list[Outcome]:
        """Record rejections, place articles and learn their sources' boilerplate, in one
        transaction; a deadlock or serialization failure between concurrent workers rolls it back
        and runs it again, a few times at most."""
        for attempt in range(1, locks.MAX_ATTEMPTS + 1):
            try:
                with self.factory() as session, session.begin():
                    self._record_rejections(session, rejections, summary.run_id)
                    placed = self.placer.place_batch(session, articles, summary.run_id, summary.timings,
                                                     ahead.postings)
                    self.boilerplate.learn(session, [a for a, o in zip(articles, placed) if o.status != "duplicate"],
                                           ahead.folded_phrases)
                    return placed
            except Exception as exc:
                self.placer = Placer(self.settings)  # its caches may name rows that were rolled back
                if not locks.retryable(exc) or attempt == locks.MAX_ATTEMPTS:
                    raise
                log.info("batch of run %s rolled back (%s), attempt %d", summary.run_id, first_line(exc), attempt)
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    def _tidy_recent_tiers(self, summary: Summary, placed: int) -> None:
        """Move the band index's recent tier into the main one and fold the recent counts of
        source phrases, each when it is due (SQLite only, see `archive.db.bandindex` and
        `archive.db.phrases`), checked once per `batch_size` articles placed."""
        self._unchecked += placed
        engine = self.factory.kw.get("bind")
        if self._unchecked < self.settings.batch_size or engine is None:
            return
        self._unchecked = 0
        started = time.process_time()
        bandindex.merge_if_due(engine, self.settings.index_recent_articles)
        summary.timings["index move"] = summary.timings.get("index move", 0.0) + time.process_time() - started
        self._fold_phrases(summary, phrases.RECENT_ROWS)

    def _fold_phrases(self, summary: Summary, limit: int) -> None:
        started = time.process_time()
        phrases.fold_if_due(self.factory, limit)
        summary.timings["phrase fold"] = summary.timings.get("phrase fold", 0.0) + time.process_time() - started

    def _count(self, summary: Summary, outcome: Outcome) -> None:
        if outcome.status == "duplicate":
            summary.duplicates += 1
        elif outcome.status == "copy":
            summary.copies += 1
            summary.events_touched += 1
        else:
            summary.new += 1
            summary.events_touched += 1

    def _count_rejection(self, summary: Summary, rejection: Rejection) -> None:
        summary.rejected += 1
        if len(summary.rejections) < 1000:  # the full list is in rejected_inputs
            summary.rejections.append(rejection)
        log.warning("rejected %s: %s (%s)", rejection.location, rejection.reason, rejection.detail)

    def _record_rejections(self, session: Session, rejections: list[Rejection], run_id: int | None) -> None:
        if rejections:
            session.execute(insert(RejectedRow), [
                {"run_id": run_id, "location": r.location[:4000], "reason": r.reason,
                 "detail": (r.detail or "")[:4000], "sha256": r.sha256}
                for r in rejections
            ])
