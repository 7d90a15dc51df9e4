"""The CPU side of a batch: decode, extract, clean and fingerprint, in this process or in workers.

`prepare_batch` turns a list of loaded inputs into `Prepared` articles (or `Rejection`s with the
reason) and times its stages. `PreparePool` runs it in N worker processes, batches in flight
bounded so memory depends on the batch size, results handed back in input order; the one writer
(`archive.pipeline.ingest.Ingestor`) places and commits them.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from archive.config import Settings
from archive.core import boilerplate
from archive.errors import RejectedInput
from archive.pipeline import extract as extraction
from archive.pipeline import collection, raw
from archive.pipeline.extract import Document, Extracted
from archive.pipeline.fingerprint import Fingerprint, fingerprint_batch
from archive.pipeline.loaders import Rejection

# Bytes of input documents one batch may hold (documents are at most 20 MB each).
BATCH_BYTES = 64 * 1024 * 1024
STAGES = ("read", "extract", "fingerprint", "candidates", "place", "write")


@dataclasses.dataclass
class Prepared:
    """One input ready for placement."""

    doc: Document
    extracted: Extracted
    fp: Fingerprint
    sha256: str
    source: str | None = None  # the source name boilerplate is learned under
    edge_phrases: dict[int, str] = dataclasses.field(default_factory=dict)  # see archive.core.boilerplate
    stored: tuple[bytes, str] | None = None  # the raw bytes as kept: `archive.pipeline.raw.compress`
    raw_size: int | None = None  # len(doc.content) before `_without_content` emptied it


Item = Document | Rejection
Result = Prepared | Rejection
Learned = Mapping[str, set[int]]  # source name -> keys of its learned boilerplate phrases


@dataclasses.dataclass
class PreparedBatch:
    items: list[Result]
    timings: dict[str, float]


def _extract_one(doc: Document) -> Extracted | Rejection:
    try:
        return extraction.extract(doc)
    except RejectedInput as exc:
        return Rejection(doc.location, exc.reason, exc.detail, doc.sha256)
    except (ValueError, TypeError, RecursionError, MemoryError) as exc:
        return Rejection(doc.location, "unprocessable", f"{type(exc).__name__}: {exc}"[:500], doc.sha256)


def prepare_batch(items: Sequence[Item], settings: Settings, learned: Learned | None = None) -> PreparedBatch:
    """Extract and clean each document (with the boilerplate `learned` per source so far), then
    fingerprint the batch at once; rejections pass through. The timings are CPU seconds of this
    process (what a stage costs, however busy the machine)."""
    t0 = time.process_time()
    learning = settings.matching.source_boilerplate_articles > 0
    results: list[Result | None] = []
    ready: list[tuple[int, Document, Extracted, str | None, dict[int, str]]] = []
    for item in items:
        if isinstance(item, Rejection):
            results.append(item)
            continue
        extracted = _extract_one(item)
        if learned and not isinstance(extracted, Rejection):
            extracted = _strip_learned(item, extracted, learned)
        if isinstance(extracted, Rejection):
            results.append(extracted)
        else:
            source = extraction.source_name(item, extracted)
            # Right after the strip, which keyed the same edge sentences (`boilerplate.phrase_keys`).
            edges = boilerplate.edge_phrases(extracted.lines) if learning and source else {}
            ready.append((len(results), item, extracted, source, edges))
            results.append(None)
    t1 = time.process_time()
    try:
        fps = fingerprint_batch([ex for _, _, ex, _, _ in ready], settings.sketch, settings.event_sketch)
    except (ValueError, TypeError, RecursionError, MemoryError):
        fps = [_fingerprint_alone(doc, ex, settings) for _, doc, ex, _, _ in ready]  # find the one that fails
    for (index, doc, ex, source, edges), fp in zip(ready, fps):
        if isinstance(fp, Rejection):
            results[index] = fp
            continue
        results[index] = Prepared(_without_content(doc), ex, fp, doc.sha256, source, edges,
                                  raw.compress(doc.content), len(doc.content))
    t2 = time.process_time()
    return PreparedBatch(results, {"extract": t1 - t0, "fingerprint": t2 - t1})


def _without_content(doc: Document) -> Document:
    """`doc` as the writer needs it once prepared: its bytes are in `Prepared.stored` (compressed)
    and a record's fields in `Extracted`, all but the record id its URL may be made of
    (`archive.pipeline.store.article_url`). Batches wait between the workers and the writer, so
    this halves what a prepared batch holds and what crosses from a worker to the writer."""
    fields = {"id": doc.fields["id"]} if doc.fields and doc.fields.get("id") is not None else None
    return dataclasses.replace(doc, content=b"", fields=fields)


def _strip_learned(doc: Document, ex: Extracted, learned: Learned) -> Extracted | Rejection:
    """Remove the edge sentences the article's source has shown in enough earlier articles."""
    keys = learned.get(extraction.source_name(doc, ex) or "")
    if not keys:
        return ex
    result = boilerplate.strip_learned(ex.lines, keys)
    if not result.lines:
        return Rejection(doc.location, "no-text", "nothing is left but the source's learned boilerplate", doc.sha256)
    ex.lines, ex.removed = result.lines, ex.removed + result.removed
    return ex


def _fingerprint_alone(doc: Document, ex: Extracted, settings: Settings) -> Fingerprint | Rejection:
    try:
        return fingerprint_batch([ex], settings.sketch, settings.event_sketch)[0]
    except (ValueError, TypeError, RecursionError, MemoryError) as exc:
        return Rejection(doc.location, "unprocessable", f"{type(exc).__name__}: {exc}"[:500], doc.sha256)


def batches(items: Iterable[Item], size: int, timings: dict[str, float] | None = None,
            max_bytes: int = BATCH_BYTES) -> Iterator[list[Item]]:
    """Consecutive lists of `size` items, cut early once their documents hold `max_bytes`, so a run
    of large inputs never holds more than about that much; CPU time spent reading the input is
    added to timings["read"]."""
    iterator = iter(items)
    while True:
        t0 = time.process_time()
        chunk, held = [], 0
        for item in iterator:
            chunk.append(item)
            held += len(item.content) if isinstance(item, Document) else 0
            if len(chunk) >= size or held >= max_bytes:
                break
        if timings is not None:
            timings["read"] = timings.get("read", 0.0) + time.process_time() - t0
        if not chunk:
            return
        yield chunk


def joined(prepared: Iterable[PreparedBatch], size: int) -> Iterator[PreparedBatch]:
    """Consecutive prepared batches joined, in order, into batches of at least `size` items (the
    last one may hold fewer), so that the writer places and commits more articles at once than a
    worker prepares; a size no larger than a batch changes nothing."""
    items: list[Result] = []
    timings: dict[str, float] = {}
    for batch in prepared:
        if not items and len(batch.items) >= size:
            yield batch
            continue
        items.extend(batch.items)
        for stage, seconds in batch.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
        if len(items) >= size:
            yield PreparedBatch(items, timings)
            items, timings = [], {}
    if items:
        yield PreparedBatch(items, timings)


def _for_chunk(learned: Learned, chunk: list[Item]) -> Learned:
    """The part of `learned` a chunk can use, so what is sent to a worker per batch does not grow
    with every source ever learned: records that name their source need that source's phrases
    only; a page names its source only once extracted, so a chunk holding one gets them all."""
    names = set()
    for item in chunk:
        if isinstance(item, Document):
            if not item.source:
                return learned
            names.add(item.source)
    return {name: learned[name] for name in names if name in learned}


_worker_settings: Settings | None = None


# How much lower the workers' scheduling priority is than the writer's (Unix `nice`). The one
# writer is the serial stage and sets the rate once the archive is large; the workers wait for it
# most of the time, but when they run they take CPU from it on a machine with as many cores as
# processes. Niced, they run when the writer does not need the core.
WORKER_NICENESS = 5


def _init_worker(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings
    collection.for_runs()
    if WORKER_NICENESS and hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """End this worker once its parent is gone: a SIGKILLed ingest must not leave workers behind
    (they would wait for work forever)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _prepare_in_worker(items: list[Item], learned: Learned | None) -> PreparedBatch:
    try:
        return prepare_batch(items, _worker_settings, learned)
    finally:
        _release_free_memory()


def _release_free_memory() -> None:
    """Hand the C heap's free pages back to the system after a batch (glibc only): a worker
    preparing batch after batch otherwise keeps the peak of every batch it prepared, about 13
    MB more per worker after 30,000 articles."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def _find_malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl without it): nothing to trim
        return None


_malloc_trim = _find_malloc_trim()


class PreparePool:
    """N worker processes preparing batches; `map` yields results in input order.

    At most `2 * workers` batches are in flight, or one commit's worth when the writer commits
    more (`commit_size`: the workers must prepare the next commit while the writer places one),
    so memory depends on the batch and commit sizes only. Workers
    are spawned (not forked): a process that has run Twisted or opened database connections is
    not safe to fork.
    """

    def __init__(self, settings: Settings, workers: int):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        settings.sketch.resolve()  # workers get the permutations pickled, not datasketch imported
        self.settings = settings
        self.workers = workers
        self.in_flight = max(2 * workers, -(-settings.commit_size // settings.batch_size))
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(settings,),
        )

    def map(self, chunks: Iterable[list[Item]],
            learned: Callable[[], Learned] | None = None) -> Iterator[PreparedBatch]:
        """Prepared batches in input order; `learned` gives the source boilerplate known at submission."""
        pending: collections.deque[Future] = collections.deque()
        for chunk in chunks:
            known = _for_chunk(learned(), chunk) if learned else None
            pending.append(self._executor.submit(_prepare_in_worker, chunk, known))
            if len(pending) >= self.in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "PreparePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
