"""Reading the next batch's postings ahead, in a thread, on a real SQLite archive: the same
placements as reading them in the writer's transaction, postings read before the last batch was
committed brought up to it, and reads dropped when somebody else wrote meanwhile."""

from __future__ import annotations

import concurrent.futures
import logging
import random
from collections import Counter

import numpy as np

from archive.db import bulk
from archive.pipeline import readahead
from archive.pipeline.batch import Prepared, prepare_batch
from archive.pipeline.store import _SAME_TEXT_LIMIT, Placer
from tests.test_batch import corpus, documents, open_archive, partition, synthetic_text


def test_the_next_batch_is_taken_and_its_read_started_before_one_is_handed_out():
    log: list[str] = []

    def source():
        for n in (1, 2, 3):
            log.append(f"took {n}")
            yield n

    for read, results in ((lambda n: n * 10, [None, 20, 30]), (None, [None, None, None])):
        log, handed = [], []
        for batch, future in readahead.read_ahead(source(), read):
            log.append(f"placing {batch}")
            handed.append((batch, future.result() if future else None))
        assert handed == list(zip((1, 2, 3), results))
        # Taken the same way with nothing to read (PostgreSQL): the workers get the same boilerplate.
        assert log == ["took 1", "took 2", "placing 1", "took 3", "placing 2", "placing 3"]


def test_a_failed_read_ahead_is_logged_and_left_to_the_writer(caplog):
    failed = concurrent.futures.Future()
    failed.set_exception(RuntimeError("database is locked"))
    with caplog.at_level(logging.INFO, logger="archive.pipeline.readahead"):
        assert readahead.result_or_none(failed, "postings") is None
    assert "database is locked" in caplog.text and "the writer reads it itself" in caplog.text
    assert readahead.result_or_none(None, "postings") is None


def _prepared(archive, records) -> list[Prepared]:
    return [item for item in prepare_batch(documents(records), archive.settings).items
            if isinstance(item, Prepared)]


def _store_all(archive, docs, batch_size: int, read_ahead: bool):
    ingestor = archive.ingestor
    summary = ingestor.start_run("ingest", {})
    chunks = [docs[i:i + batch_size] for i in range(0, len(docs), batch_size)]
    ingestor.store_all((prepare_batch(c, archive.settings) for c in chunks), summary, read_ahead=read_ahead)
    return ingestor.finish_run(summary)


def test_placements_with_reads_ahead_equal_those_without(tmp_path, monkeypatch):
    used = []
    original = Placer.reads_ahead_for

    def counting(self, session, ahead):
        completed = original(self, session, ahead)
        used.append(completed is not None)
        return completed

    monkeypatch.setattr(Placer, "reads_ahead_for", counting)
    docs = documents(corpus(n_originals=30, seed=11))
    results = []
    for read_ahead in (False, True):
        with open_archive(f"sqlite:///{tmp_path / f'ahead-{read_ahead}.db'}", 4) as archive:
            archive.upgrade()
            summary = _store_all(archive, docs, 4, read_ahead)
            results.append((partition(archive), summary.new, summary.copies))
    assert results[0] == results[1]
    assert results[1][2] > 0, "the corpus has copies across batches"
    batches = -(-len(docs) // 4)
    assert used.count(True) == batches - 1, "every batch after the first used its reads ahead"


def test_postings_read_before_the_last_batch_are_brought_up_to_it(sqlite_url):
    rng = random.Random(5)
    texts = [synthetic_text(rng) for _ in range(4)]

    def record(n: int, text: str) -> dict:
        return {"id": str(n), "url": f"https://site{n}.example/a", "title": "Storm", "text": text,
                "published": "2025-05-01", "source": f"site{n}"}

    with open_archive(sqlite_url, 10) as archive, open_archive(sqlite_url, 10) as other:
        archive.upgrade()
        archive.ingest_documents(documents([record(0, texts[0])]))
        placer = archive.ingestor.placer
        # The next batch reprints the archived text and the one the batch in between brings.
        following = _prepared(archive, [record(1, texts[0] + "\n\nVia site0"), record(2, texts[1] + "\n\nVia site3"),
                                        record(4, texts[2])])
        ahead = placer.read_ahead(archive.factory, following)
        archive.ingest_documents(documents([record(3, texts[1]), record(5, texts[2])]))  # committed after the read
        with archive.factory() as session, session.begin():
            completed = placer.reads_ahead_for(session, ahead)
            assert completed is not None and completed.mark != ahead.mark
            copy_keys = {k for p in following for k in p.fp.copy_keys}
            fresh = bulk.postings(session, 0, copy_keys)
            assert {k: Counter(completed.copy_postings.get(k, ())) for k in copy_keys} == \
                {k: Counter(fresh.get(k, ())) for k in copy_keys}
            read_before = {i for ids in ahead.copy_postings.values() for i in ids}
            assert {i for ids in fresh.values() for i in ids} - read_before, "the batch in between added postings"
            hashes = {p.fp.text_hash for p in following}
            fresh_texts = bulk.texts_by_hash(session, hashes, _SAME_TEXT_LIMIT)
            assert {h: completed.same_text.get(h) for h in hashes} == {h: fresh_texts.get(h) for h in hashes}
            assert completed.event_postings, "some event terms were not kept by the writer when read"
            fresh_events = placer.event_postings._from_database(session, list(completed.event_postings))
            for key, ids in completed.event_postings.items():
                assert np.array_equal(ids, fresh_events[key]), key
        # Another writer adds an article: what was read ahead before it cannot be brought up to it.
        stale = placer.read_ahead(archive.factory, following)
        other.ingest_documents(documents([record(6, texts[3])]))
        with archive.factory() as session, session.begin():
            assert placer.reads_ahead_for(session, stale) is None
            assert placer.reads_ahead_for(session, placer.read_ahead(archive.factory, following)) is not None


def test_reads_ahead_see_one_snapshot_of_the_archive(sqlite_url):
    """The reads run in a transaction of their own: they and their mark come from one state."""
    rng = random.Random(9)
    with open_archive(sqlite_url, 10) as archive:
        archive.upgrade()
        batch = _prepared(archive, [{"id": "x", "url": "https://x.example/1", "title": "t",
                                     "text": synthetic_text(rng), "published": "2025-05-01"}])
        ahead = archive.ingestor.placer.read_ahead(archive.factory, batch)
        assert ahead.mark == (0, ahead.mark[1]) and not ahead.copy_postings and not ahead.same_text
        with archive.factory() as session:
            assert archive.ingestor.placer.reads_ahead_for(session, ahead) is ahead
