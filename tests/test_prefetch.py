"""Candidates read by the workers from a snapshot: brought up to date exactly, refused when another
process wrote in between, and the same archive as reading them in the writer."""

from __future__ import annotations

import dataclasses
import random

import pytest
from sqlalchemy import insert

from archive.api import Archive
from archive.config import load_settings
from archive.db import bulk
from archive.db.engine import transaction
from archive.db.models import Meta
from archive.errors import ConfigError
from archive.db.snapshot import SnapshotReader, archive_mark
from archive.pipeline.batch import Prepared, PreparedBatch, prepare_batch
from archive.pipeline.prefetch import EVENT_BAND, EVENT_LEVEL, SAME_TEXT_LIMIT, prefetch
from tests.test_batch import corpus, documents, partition, synthetic_text


def open_archive(url: str, batch_size: int, **changes) -> Archive:
    settings = dataclasses.replace(load_settings({"ARCHIVE_DATABASE_URL": url}), batch_size=batch_size, **changes)
    return Archive(settings)


def test_workers_reading_candidates_build_the_same_archive(tmp_path):
    """Several batches in flight, joined or not: the same clusters as one process, and the
    workers' reads were used (not every batch fell back to reading in the writer)."""
    docs = documents(corpus(14, seed=5))
    results = []
    runs = ((0, True, 0), (2, False, 0), (2, True, 0), (2, True, 6))
    for n, (workers, reads, commit_size) in enumerate(runs):
        with open_archive(f"sqlite:///{tmp_path / f'a{n}.db'}", 3, worker_reads=reads,
                          commit_size=commit_size) as archive:
            archive.upgrade()
            archive.ingestor.workers = workers
            summary = archive.ingest_documents(docs)
            results.append((partition(archive), summary.new, summary.copies))
            recent = archive.ingestor.placer.recent
            if workers and reads:
                assert recent.used >= 2, (recent.used, recent.unusable)
            else:
                assert recent.used == 0
    assert all(r == results[0] for r in results[1:])


def _prepared(archive: Archive, records: list[dict]) -> list[Prepared]:
    batch = prepare_batch(documents(records), archive.settings)
    return [item for item in batch.items if isinstance(item, Prepared)]


def _store(archive: Archive, summary, prepared: list[Prepared], prefetched) -> None:
    archive.ingestor.store(PreparedBatch(list(prepared), {}, prefetched), summary)


def _records(rng: random.Random, tag: str, base: list[str]) -> list[dict]:
    """New texts, and reprints of `base` texts (so postings, same texts and events all grow)."""
    out = [{"id": f"{tag}{i}", "url": f"https://{tag}.example/{i}", "title": f"Story {tag}{i}",
            "text": synthetic_text(rng), "published": "2025-04-02T08:00:00Z", "source": tag} for i in range(4)]
    out += [{"id": f"{tag}r{i}", "url": f"https://{tag}-farm.example/{i}", "title": "Reprint",
             "text": text, "published": "2025-04-02T09:00:00Z", "source": f"{tag}-farm"}
            for i, text in enumerate(base)]
    return out


def test_prefetched_reads_brought_up_to_date_equal_reading_now(sqlite_url):
    """A snapshot taken two writer batches ago, brought up to date, answers what the database
    answers after those batches: copy buckets, same texts, capped event postings, memberships."""
    rng = random.Random(41)
    with open_archive(sqlite_url, 50) as archive:
        archive.upgrade()
        summary = archive.ingestor.start_run("test", {})
        first = _records(rng, "a", [])
        _store(archive, summary, _prepared(archive, first), [])
        texts = [r["text"] for r in first]
        later = _prepared(archive, _records(rng, "c", texts[:2]) + [dict(first[0], id="x", url="https://x.example/")])
        reader = SnapshotReader(sqlite_url)
        cap, limit = archive.settings.event_sketch.bucket_limit, archive.settings.matching.max_candidates
        with reader.snapshot() as session:
            snapshot = prefetch(session, [p.fp for p in later], cap, limit)
        _store(archive, summary, _prepared(archive, _records(rng, "b", texts)), [])
        _store(archive, summary, _prepared(archive, _records(rng, "d", texts[1:3])), [])
        recent = archive.ingestor.placer.recent
        with transaction(archive.factory) as session:
            recent.start(archive_mark(session))
            current = recent.bring_up_to_date([snapshot], cap)
            assert current is not None
            keys = list(snapshot.copy_postings)
            now = bulk.postings(session, 0, keys)
            assert {k: sorted(v) for k, v in current.copy_postings.items() if v} == {k: sorted(v) for k, v in now.items()}
            assert any(len(v) > len(snapshot.copy_postings[k]) for k, v in current.copy_postings.items())
            assert current.same_text == {h: bulk.texts_by_hash(session, [h], SAME_TEXT_LIMIT).get(h, [])
                                         for h in snapshot.same_text}
            terms = list(snapshot.event_postings())
            capped = bulk.capped_postings(session, EVENT_LEVEL, EVENT_BAND, terms, cap)
            assert {k: list(v) for k, v in current.event_postings.items()} == {k: capped.get(k, []) for k in terms}
            members = bulk.memberships(session, current.memberships)
            assert current.memberships == {i: members.get(i, {}) for i in current.memberships}
            assert max(current.memberships) > snapshot.mark[0]  # the writer's newer articles too
        reader.close()


def test_a_snapshot_older_than_another_writer_is_not_used(sqlite_url):
    """Another process writes between the snapshot and the placement: the writer reads again,
    and finds the other process's article (here: the original of a reprint)."""
    rng = random.Random(43)
    text = synthetic_text(rng)
    with open_archive(sqlite_url, 10) as archive, open_archive(sqlite_url, 10) as other:
        archive.upgrade()
        summary = archive.ingestor.start_run("test", {})
        _store(archive, summary, _prepared(archive, _records(rng, "a", [])), [])
        reprint = _prepared(archive, [{"id": "r", "url": "https://farm.example/r", "title": "Reprint",
                                       "text": text + "\n\nVia the farm", "published": "2025-04-02T10:00:00Z"}])
        reader = SnapshotReader(sqlite_url)
        with reader.snapshot() as session:
            snapshot = prefetch(session, [p.fp for p in reprint], 100, 50)
        other.ingest_documents(documents([{"id": "o", "url": "https://origin.example/o", "title": "Original",
                                           "text": text, "published": "2025-04-02T08:00:00Z"}]))
        outcome = archive.ingestor.store(PreparedBatch(list(reprint), {}, [snapshot]), summary)[0]
        assert outcome.status == "copy"
        assert archive.ingestor.placer.recent.unusable == 1 and archive.ingestor.placer.recent.used == 0
        reader.close()


def test_a_snapshot_keeps_its_view_while_the_writer_commits(sqlite_url):
    """One read transaction: what another connection commits meanwhile is not seen in it."""
    with open_archive(sqlite_url, 10) as archive:
        archive.upgrade()
        reader = SnapshotReader(sqlite_url)
        with reader.snapshot() as session:
            before = archive_mark(session)
            with transaction(archive.factory) as writer:
                writer.execute(insert(Meta).values(key="index_generation", value="7"))
            assert archive_mark(session) == before
        with reader.snapshot() as session:
            assert archive_mark(session)[2] == "7"
        reader.close()


def test_worker_reads_setting(tmp_path):
    assert load_settings({}).worker_reads is True
    assert load_settings({"ARCHIVE_WORKER_READS": "0"}).worker_reads is False
    config = tmp_path / "archive.toml"
    config.write_text("[archive]\nworker_reads = false\n")
    assert load_settings({"ARCHIVE_CONFIG": str(config)}).worker_reads is False
    with pytest.raises(ConfigError, match="ARCHIVE_WORKER_READS"):
        load_settings({"ARCHIVE_WORKER_READS": "maybe"})
