"""The batch path: one placement function whatever the batch size, copies found inside a batch,
duplicates and rejections inside a batch, workers giving the same archive as one process."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from pathlib import Path

import numpy as np
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from archive.api import Archive
from archive.config import load_settings
from archive.core import sketch
from archive.db import bandindex
from archive.db.models import BandKey, ClusterHistory, ClusterMember, IngestRun, RawDocument, RejectedInput
from archive.pipeline.batch import PreparedBatch, joined, prepare_batch
from archive.pipeline.extract import Document, extract
from archive.pipeline.fingerprint import fingerprint, fingerprint_batch
from archive.pipeline.loaders import Rejection
from tests.conftest import _truncate_pg

WORDS = ("harbour council budget river bridge minister storm vaccine election court museum railway "
         "festival drought factory airport senate tariff protest satellite").split()


def synthetic_text(rng: random.Random, words: int = 120) -> str:
    """Sentences of made-up words: enough distinct shingles to tell texts apart."""
    sentences = []
    for _ in range(words // 12):
        body = " ".join(f"{rng.choice(WORDS)}{rng.randrange(1000)}" for _ in range(12))
        sentences.append(body.capitalize() + ".")
    return "\n\n".join(" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3))


def corpus(n_originals: int = 12, seed: int = 7) -> list[dict]:
    """Originals, reprints (a watermark line appended, an ending trimmed) and one exact duplicate line."""
    rng = random.Random(seed)
    records = []
    for i in range(n_originals):
        text = synthetic_text(rng)
        day = 1 + i % 20
        records.append({"id": f"o{i}", "url": f"https://news.example/o{i}", "title": f"Story {i}",
                        "text": text, "published": f"2025-03-{day:02d}T08:00:00Z", "source": "example"})
        if i % 3 == 0:
            records.append({"id": f"c{i}", "url": f"https://farm.example/c{i}", "title": f"Story {i} (reprint)",
                            "text": text + "\n\nRead more at farm.example", "published": f"2025-03-{day:02d}T12:00:00Z",
                            "source": "farm"})
        if i % 4 == 0:
            trimmed = "\n\n".join(text.split("\n\n")[:-1])
            records.append({"id": f"t{i}", "url": f"https://copy.example/t{i}", "title": f"Story {i}",
                            "text": trimmed, "published": f"2025-03-{day:02d}T06:00:00Z", "source": "copy"})
    rng.shuffle(records)
    return records


def documents(records: list[dict]) -> list[Document]:
    out = []
    for n, record in enumerate(records):
        line = json.dumps(record, ensure_ascii=False).encode()
        out.append(Document(content=line, location=f"test.jsonl:{n + 1}", kind="record", url=record.get("url"),
                            source=record.get("source"), fields=record, media_type="application/json"))
    return out


def open_archive(url: str, batch_size: int) -> Archive:
    settings = dataclasses.replace(load_settings({"ARCHIVE_DATABASE_URL": url}), batch_size=batch_size, commit_size=0)
    return Archive(settings)


def partition(archive: Archive) -> dict:
    """The archive's clustering in terms of URLs: copy clusters with their original, events."""
    out = {}
    for kind in ("copy", "event"):
        groups = []
        for c in archive.clusters(kind=kind):
            urls = sorted(a["url"] for a in c["articles"])
            original = next((a["url"] for a in c["articles"] if a["role"] == "original"), None)
            groups.append((tuple(urls), original if kind == "copy" else None, c["size"]))
        out[kind] = sorted(groups)
    return out


def test_fingerprint_batch_equals_single_path():
    rng = random.Random(3)
    texts = [synthetic_text(rng, 60) for _ in range(5)] + ["东莞香港国际空港中心作为全球首个直达机场空侧的跨境海空联运项目"]
    extracted = [extract(d) for d in documents([{"text": t, "title": "t"} for t in texts])]
    settings = load_settings({})
    together = fingerprint_batch(extracted, settings.sketch, settings.event_sketch)
    for ex, fp in zip(extracted, together):
        alone = fingerprint(ex, settings.sketch, settings.event_sketch)
        assert np.array_equal(fp.signature, sketch.signature(sketch.shingle_hashes(ex.text, settings.sketch),
                                                             settings.sketch))
        assert np.array_equal(fp.signature, alone.signature) and np.array_equal(fp.shingles, alone.shingles)
        assert (fp.copy_keys, fp.event_keys, fp.event_terms, fp.text_hash) == (
            alone.copy_keys, alone.event_keys, alone.event_terms, alone.text_hash)


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=80), min_size=1, max_size=6))
def test_signatures_batch_equals_datasketch_path(texts):
    cfg = sketch.SketchConfig()
    arrays = [sketch.shingle_hashes(t, cfg) for t in texts]
    batch = sketch.signatures_batch(arrays, cfg)
    for row, arr in zip(batch, arrays):
        assert np.array_equal(row, sketch.signature(arr, cfg))


def test_batch_of_many_places_like_batches_of_one(db_url, tmp_path):
    """The clustering does not depend on the batch size: one article at a time and all at once agree."""
    docs = documents(corpus())
    results = []
    for size, url in ((1, db_url), (500, f"sqlite:///{tmp_path / 'other.db'}")):
        with open_archive(url, size) as archive:
            archive.upgrade()
            summary = archive.ingest_documents(docs)
            results.append((partition(archive), (summary.new, summary.copies, summary.duplicates)))
    assert results[0] == results[1]
    copies = {g[0] for g in results[0][0]["copy"] if g[2] > 1}
    expected = {tuple(sorted(u for u in (f"https://news.example/o{i}", f"https://farm.example/c{i}" if i % 3 == 0 else None,
                                         f"https://copy.example/t{i}" if i % 4 == 0 else None) if u))
                for i in (0, 3, 4, 6, 8, 9)}
    assert copies == expected
    assert results[0][1] == (12, 7, 0)


def test_joined_batches_keep_their_order_and_sum_their_timings():
    prepared = [PreparedBatch([f"{n}.{i}" for i in range(size)], {"fingerprint": 1.0})
                for n, size in enumerate((2, 2, 3, 1, 2))]
    joined_up = list(joined(prepared, 4))
    assert [b.items for b in joined_up] == [["0.0", "0.1", "1.0", "1.1"], ["2.0", "2.1", "2.2", "3.0"], ["4.0", "4.1"]]
    assert [b.timings for b in joined_up] == [{"fingerprint": 2.0}, {"fingerprint": 2.0}, {"fingerprint": 1.0}]
    assert list(joined(prepared, 0)) == prepared and list(joined(prepared, 2))[0] is prepared[0]


def test_commits_of_several_batches_place_like_single_batches(db_url, tmp_path):
    """ARCHIVE_COMMIT_SIZE joins the workers' batches for the writer: the same clusters, fewer
    transactions (counted on the engine itself)."""
    docs = documents(corpus())
    batches_of_two = -(-len(docs) // 2)
    results = []
    for commit_size, url in ((0, db_url), (8, f"sqlite:///{tmp_path / 'joined.db'}")):
        settings = dataclasses.replace(load_settings({"ARCHIVE_DATABASE_URL": url}), batch_size=2,
                                       commit_size=commit_size)
        with Archive(settings) as archive:
            archive.upgrade()
            commits = []
            event.listen(archive.factory.kw["bind"], "commit", lambda _conn: commits.append(1))
            summary = archive.ingest_documents(docs)
            folds = 1 if archive.engine.dialect.name == "sqlite" else 0  # the phrase counts' fold at the end
            results.append((partition(archive), (summary.new, summary.copies, summary.duplicates),
                            len(commits) - folds))
    assert results[0][:2] == results[1][:2]
    assert results[0][2] - results[1][2] == batches_of_two - -(-len(docs) // 8)


def test_two_copies_in_one_batch_share_a_cluster(db_url):
    rng = random.Random(11)
    text = synthetic_text(rng)
    records = [
        {"id": "a", "url": "https://a.example/1", "title": "Storm", "text": text, "published": "2025-05-02"},
        {"id": "b", "url": "https://b.example/1", "title": "Storm", "text": text + "\n\nSource: a.example",
         "published": "2025-05-01"},
    ]
    with open_archive(db_url, 200) as archive:
        summary = archive.ingest_documents(documents(records))
        assert (summary.new, summary.copies) == (1, 1)
        [cluster] = [c for c in archive.clusters(kind="copy") if c["size"] == 2]
        roles = {a["url"]: a["role"] for a in cluster["articles"]}
        # b was published first, so it is the original although it came second
        assert roles == {"https://b.example/1": "original", "https://a.example/1": "copy"}
        assert "earliest published" in cluster["original_reason"]
        [event] = archive.clusters(kind="event")
        assert event["size"] == 2


def test_duplicates_and_rejections_inside_one_batch(db_url):
    rng = random.Random(5)
    records = [{"id": "x", "url": "https://x.example/1", "title": "X", "text": synthetic_text(rng)}]
    docs = documents(records) * 2  # the same bytes twice
    docs.append(documents([{"id": "y", "url": "https://x.example/1", "title": "Y", "text": synthetic_text(rng)}])[0])
    docs.append(documents([{"id": "z", "title": "Z", "text": ""}])[0])
    docs.append(Rejection("broken.jsonl:9", "bad-json", "Expecting value"))
    with open_archive(db_url, 200) as archive:
        summary = archive.ingest_documents(docs)
        assert (summary.read, summary.new, summary.duplicates, summary.rejected) == (5, 1, 2, 2)
        with archive.session() as s:
            assert sorted(s.scalars(select(RejectedInput.reason))) == ["bad-json", "no-text"]
            run = s.get(IngestRun, summary.run_id)
            assert (run.read, run.new, run.duplicates, run.rejected, run.status) == (5, 1, 2, 2, "ok")
            assert s.scalar(select(func.count()).select_from(BandKey)) == 32 + len(
                prepare_batch(docs[:1], archive.settings).items[0].fp.event_keys)
        again = archive.ingest_documents(docs)
        assert (again.new, again.duplicates, again.rejected) == (0, 3, 2)


def test_history_and_members_written_for_each_article(db_url):
    with open_archive(db_url, 7) as archive:
        summary = archive.ingest_documents(documents(corpus(6)))
        with archive.session() as s:
            articles = summary.new + summary.copies
            assert s.scalar(select(func.count()).select_from(ClusterMember)) == 2 * articles
            creates = s.scalar(select(func.count()).select_from(ClusterHistory).where(ClusterHistory.action == "create"))
            joins = s.scalar(select(func.count()).select_from(ClusterHistory).where(ClusterHistory.action == "join"))
            copy_clusters = len(archive.clusters(kind="copy"))
            event_clusters = len(archive.clusters(kind="event"))
            assert creates == copy_clusters + event_clusters
            assert joins == articles - event_clusters


def test_workers_build_the_same_archive(sqlite_url, tmp_path):
    docs = documents(corpus(9, seed=21))
    results = []
    for workers, url in ((0, sqlite_url), (2, f"sqlite:///{tmp_path / 'workers.db'}")):
        with open_archive(url, 4) as archive:
            archive.upgrade()
            archive.ingestor.workers = workers
            summary = archive.ingest_documents(docs)
            results.append((partition(archive), summary.new, summary.copies))
            assert {"read", "extract", "fingerprint", "candidates", "place", "write"} <= set(summary.timings)
    assert results[0] == results[1]


def test_the_writer_counts_its_wait_for_the_workers(sqlite_url):
    """A run with workers records how long the writer waited for their batches (the first one alone
    waits for a worker to start, so above zero, and within the run); a run in one process waits
    for nobody."""
    with open_archive(sqlite_url, 4) as archive:
        archive.upgrade()
        archive.ingestor.workers = 1
        started = time.perf_counter()
        summary = archive.ingest_documents(documents(corpus(6, seed=5)))
        wall = time.perf_counter() - started
        assert summary.workers == 1 and 0 < summary.waited < wall
        archive.ingestor.workers = 0
        alone = archive.ingest_documents(documents(corpus(6, seed=6)))
        assert alone.workers == 0 and alone.waited == 0.0


def test_runs_collect_cycles_rarely_and_give_the_thresholds_back(sqlite_url):
    """The collector's young generation waits for 100,000 allocations during a run, in the writer
    and in its workers (it was 16% of the writer's CPU on a large archive), and the process gets
    its own thresholds back afterwards."""
    import gc

    from archive.pipeline import collection
    from archive.pipeline.batch import PreparePool

    before = gc.get_threshold()
    during = []
    with open_archive(sqlite_url, 4) as archive:
        archive.upgrade()
        archive.ingestor.workers = 0
        archive.ingest_documents(documents(corpus(6, seed=3)), progress=lambda *_: during.append(gc.get_threshold()))
    assert during and set(during) == {collection.RUN_THRESHOLDS}
    assert gc.get_threshold() == before != collection.RUN_THRESHOLDS
    with PreparePool(load_settings({"ARCHIVE_DATABASE_URL": sqlite_url}), 1) as pool:
        assert pool._executor.submit(gc.get_threshold).result() == collection.RUN_THRESHOLDS


def test_workers_run_at_a_lower_priority_than_the_writer(sqlite_url):
    """The workers yield the CPU to the one writer, which sets the rate on a large archive."""
    import os

    from archive.pipeline.batch import WORKER_NICENESS, PreparePool

    assert WORKER_NICENESS > 0
    with PreparePool(load_settings({"ARCHIVE_DATABASE_URL": sqlite_url}), 1) as pool:
        assert pool._executor.submit(os.nice, 0).result() == min(os.nice(0) + WORKER_NICENESS, 19)


def test_fmix32_equals_datasketch():
    from datasketch.minhash import _fmix

    values = np.random.default_rng(5).integers(0, 2**32, size=10_000, dtype=np.uint32)
    assert np.array_equal(sketch._fmix32(values), _fmix(values, 32))


WORKER_SCRIPT = """
import pickle, sys
from archive.pipeline.batch import PreparedBatch, joined, prepare_batch
from archive.pipeline.extract import Document
settings = pickle.loads(sys.stdin.buffer.read())
doc = Document(content="东莞与香港的产业合作交流会在香港举行。".encode(), location="a.txt", kind="text")
result = prepare_batch([doc], settings).items[0]
print(len(result.fp.copy_keys), "datasketch" in sys.modules, "scipy" in sys.modules)
"""


def test_workers_prepare_without_importing_datasketch(tmp_path):
    """A preparing process gets the permutations with its settings: no datasketch, no SciPy (60 MB each)."""
    import pickle
    import subprocess
    import sys

    settings = load_settings({"ARCHIVE_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    settings.sketch.resolve()
    out = subprocess.run([sys.executable, "-c", WORKER_SCRIPT], input=pickle.dumps(settings),
                         capture_output=True, check=True).stdout.decode().split()
    assert out == [str(settings.sketch.bands[0]), "False", "False"]


def test_cached_event_centroids_give_way_to_changes_made_elsewhere(db_url):
    """The placer keeps event centroids between batches; a row another process changed since
    (its updated_at moved) is read again, never summed over a stale copy."""
    from sqlalchemy import update

    from archive.db.engine import transaction
    from archive.db.models import Cluster, utcnow

    rng = random.Random(23)
    text = synthetic_text(rng)
    original = {"id": "o", "url": "https://o.example/1", "title": "Storm", "text": text, "published": "2025-05-01"}
    reprint = {"id": "r", "url": "https://r.example/1", "title": "Storm", "text": text + "\n\nVia o.example",
               "published": "2025-05-01T06:00:00"}
    with open_archive(db_url, 1) as archive:
        archive.upgrade()
        archive.ingest_documents(documents([original]))
        [event] = archive.clusters(kind="event")
        placer = archive.ingestor.placer
        assert event["id"] in placer._centroids  # what the next batch would reuse
        with transaction(archive.factory) as session:  # a curator's change, as curation makes it
            stored = session.get(Cluster, event["id"])
            session.execute(update(Cluster).where(Cluster.id == event["id"]).values(
                centroid={**stored.centroid, "curated-term": 1.0}, updated_at=utcnow()))
        archive.ingest_documents(documents([reprint]))
        with transaction(archive.factory) as session:
            stored = session.get(Cluster, event["id"])
            assert stored.size == 2
            assert stored.centroid["curated-term"] == 1.0



def test_kept_event_postings_give_way_to_other_writers(sqlite_url):
    """The writer keeps event postings between batches; articles another process indexed
    meanwhile are read from the database, not missed."""
    rng = random.Random(31)
    text = synthetic_text(rng)
    record = {"title": "Storm", "text": text, "published": "2025-05-01"}
    with open_archive(sqlite_url, 1) as first, open_archive(sqlite_url, 1) as other:
        first.upgrade()
        first.ingest_documents(documents([{**record, "id": "a", "url": "https://a.example/1"}]))
        other.ingest_documents(documents([{**record, "id": "b", "url": "https://b.example/1",
                                           "text": text + "\n\nVia a.example"}]))
        first.ingest_documents(documents([{**record, "id": "c", "url": "https://c.example/1",
                                           "text": text + "\n\nVia b.example"}]))
        ids = {a["url"]: a["id"] for c in first.clusters(kind="copy") for a in c["articles"]}
        kept = first.ingestor.placer.event_postings._terms
        assert kept, "the first writer keeps postings"
        newest_first = [ids[f"https://{x}.example/1"] for x in "cba"]
        assert all(list(postings) == newest_first for postings in kept.values())


def test_copy_checks_read_stored_shingle_sets_and_older_rows_fall_back(db_url):
    """Each article keeps its shingle set; copies are checked on it. Articles stored before the
    column existed (NULL) are shingled from their clean text and placed the same way."""
    from sqlalchemy import update

    from archive.db import bulk
    from archive.db.engine import transaction
    from archive.db.models import Article

    records = corpus(n_originals=9, seed=41)
    originals = [r for r in records if r["id"].startswith("o")]
    later = [r for r in records if not r["id"].startswith("o")]
    placements = []
    for forget in (False, True):
        with open_archive(db_url, 500) as archive:
            archive.upgrade()
            archive.ingest_documents(documents(originals))
            with transaction(archive.factory) as session:
                rows = session.execute(select(Article.id, Article.clean_text, Article.shingles)).all()
                cfg = archive.settings.sketch
                for article_id, text, stored in rows:
                    assert np.array_equal(sketch.shingles_from_bytes(stored), sketch.shingle_set(text, cfg))
                if forget:  # as after the upgrade to 0004: the older rows hold none
                    session.execute(update(Article).values(shingles=None))
                else:  # the stored set is what is read, not the text
                    marked = np.array([1, 2, 3], dtype=np.uint32)
                    session.execute(update(Article).where(Article.id == rows[0][0])
                                    .values(shingles=sketch.shingles_bytes(marked)))
                    assert np.array_equal(bulk.shingle_sets(session, [rows[0][0]], cfg)[rows[0][0]], marked)
                    session.execute(update(Article).where(Article.id == rows[0][0])
                                    .values(shingles=sketch.shingles_bytes(sketch.shingle_set(rows[0][1], cfg))))
                found = bulk.shingle_sets(session, [r[0] for r in rows], cfg)
                assert all(np.array_equal(found[i], sketch.shingle_set(text, cfg)) for i, text, _ in rows)
        with open_archive(db_url, 500) as archive:  # a new writer: nothing cached
            summary = archive.ingest_documents(documents(later))
            placements.append((partition(archive), summary.copies))
        _empty(db_url)
    assert placements[0] == placements[1]
    assert placements[0][1] == len(later)  # every reprint and trimmed copy found its original


def _empty(url: str) -> None:
    """Start the archive at `url` over (the next `upgrade` migrates it again)."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        _truncate_pg(url)


def test_event_centroid_cache_is_bounded_by_terms_not_events(monkeypatch):
    """Centroids grow with their events: the writer's cache holds a budget of terms, dropping the
    least recently used events first, whatever the number of events."""
    from archive.pipeline import store

    monkeypatch.setattr(store, "_CENTROID_CACHE_TERMS", 100)
    placer = store.Placer(load_settings({}))
    centroid = {f"term{i}": 1.0 for i in range(30)}
    for cluster_id in range(1, 6):
        placer._remember_centroid(cluster_id, ("v", cluster_id), centroid)
    assert list(placer._centroids) == [3, 4, 5] and placer._centroid_terms == 90
    placer._remember_centroid(4, ("v", 40), {"term": 1.0})  # a newer version replaces, not adds
    assert list(placer._centroids) == [3, 5, 4] and placer._centroid_terms == 61
    assert placer._cached_centroid(4, ("v", 40)) == (True, {"term": 1.0})
    assert placer._cached_centroid(3, ("v", 30)) == (False, None)  # a stale version is not used
    placer._remember_centroid(6, ("v", 6), {f"big{i}": 1.0 for i in range(150)})  # alone over budget
    assert list(placer._centroids) == [6] and placer._centroid_terms == 150


def test_kept_event_postings_are_read_again_after_a_repair_rewrote_keys(sqlite_url):
    """`archive check --repair` rewrites keys of articles already indexed (their ids do not move
    the index's largest id): it counts up the index generation, and a writer keeping postings
    reads them again."""
    from sqlalchemy import delete

    from archive.db.engine import transaction
    from archive.db.models import BandKey

    rng = random.Random(37)
    record = {"id": "a", "url": "https://a.example/1", "title": "Storm", "text": synthetic_text(rng),
              "published": "2025-05-01"}
    with open_archive(sqlite_url, 1) as first, open_archive(sqlite_url, 1) as other:
        first.upgrade()
        first.ingest_documents(documents([record]))
        postings = first.ingestor.placer.event_postings
        assert postings._terms, "the writer keeps postings"
        with transaction(first.factory) as session:
            postings.read(session, [])
        assert postings._terms, "nothing changed: the kept postings stay"
        with transaction(other.factory) as session:  # damage the event index, then mend it
            session.execute(delete(BandKey).where(BandKey.level.in_(bandindex.tiers(1))))
        assert other.check(repair=True).repaired.get("band-keys-event") == 1
        with transaction(first.factory) as session:
            postings.read(session, [])
        assert not postings._terms, "a repair elsewhere empties what the writer kept"


def test_commit_size_is_read_checked_and_passed_to_children(tmp_path):
    from archive.config import child_environment
    from archive.errors import ConfigError

    config = tmp_path / "archive.toml"
    config.write_text("[archive]\ncommit_size = 3000\n")
    assert load_settings({"ARCHIVE_CONFIG": str(config)}).commit_size == 3000
    settings = load_settings({"ARCHIVE_CONFIG": str(config), "ARCHIVE_COMMIT_SIZE": "2500"})
    assert settings.commit_size == 2500 and load_settings({}).commit_size == 1000
    assert load_settings(child_environment(settings, {})).commit_size == 2500
    assert load_settings({"ARCHIVE_COMMIT_SIZE": "0"}).commit_size == 0  # one batch
    for bad, reason in (("many", "whole number"), ("-5", "must be at least 0")):
        try:
            load_settings({"ARCHIVE_COMMIT_SIZE": bad})
        except ConfigError as exc:
            assert reason in str(exc)
        else:
            raise AssertionError(f"ARCHIVE_COMMIT_SIZE={bad} was accepted")


def test_sqlite_cache_size_is_read_passed_to_children_and_set_on_connections(tmp_path):
    from sqlalchemy import text

    from archive.config import child_environment
    from archive.errors import ConfigError

    config = tmp_path / "archive.toml"
    config.write_text(f"[archive]\nsqlite_cache_mb = 256\ndatabase_url = 'sqlite:///{tmp_path / 'a.db'}'\n")
    settings = load_settings({"ARCHIVE_CONFIG": str(config)})
    assert settings.sqlite_cache_mb == 256 and load_settings({}).sqlite_cache_mb == 64
    assert load_settings({"ARCHIVE_CONFIG": str(config), "ARCHIVE_SQLITE_CACHE_MB": "32"}).sqlite_cache_mb == 32
    assert load_settings(child_environment(settings, {})).sqlite_cache_mb == 256
    with Archive(settings) as archive, archive.engine.connect() as conn:
        assert conn.execute(text("PRAGMA cache_size")).scalar() == -256 * 1024
    try:
        load_settings({"ARCHIVE_SQLITE_CACHE_MB": "0"})
    except ConfigError as exc:
        assert "at least 1" in str(exc)
    else:
        raise AssertionError("a cache of 0 MB was accepted")


def test_event_centroids_are_read_for_events_an_article_may_join_only(db_url, monkeypatch):
    """A candidate event first published outside the article's window cannot take it on its terms,
    so its centroid is not read (on a large archive most candidates' events are such); one inside
    the window is read, and a reprint months later still joins the old event as a copy, its
    centroid read then and summed."""
    from archive.db import bulk
    from archive.db.engine import transaction
    from archive.db.models import Cluster

    rng = random.Random(29)
    text = synthetic_text(rng, 240)
    paragraphs = text.split("\n\n")
    half = paragraphs[: len(paragraphs) // 2]
    related, other = ("\n\n".join(half + synthetic_text(rng, 120).split("\n\n")) for _ in range(2))
    record = {"title": "Storm", "source": "news"}
    read: list[int] = []
    real = bulk.centroids
    monkeypatch.setattr(bulk, "centroids", lambda session, ids: read.extend(ids) or real(session, ids))
    with open_archive(db_url, 1) as archive:
        archive.upgrade()
        archive.ingest_documents(documents([{**record, "id": "o", "url": "https://o.example/1", "text": text,
                                             "published": "2025-01-01T08:00:00"}]))
        [event] = archive.clusters(kind="event")
        placer = archive.ingestor.placer

        def place(record_id: str, body: str, published: str) -> None:
            placer._centroids.clear()  # nothing kept: what is needed is read
            read.clear()
            archive.ingest_documents(documents([{**record, "id": record_id, "url": f"https://{record_id}.example/1",
                                                 "text": body, "published": published}]))

        place("late", related, "2025-03-01T08:00:00")
        assert event["id"] not in read
        place("near", other, "2025-01-02T08:00:00")
        assert read == [event["id"]]
        with transaction(archive.factory) as session:
            before = dict(session.get(Cluster, event["id"]).centroid)
        place("reprint", text + "\n\nVia o.example", "2025-06-01T08:00:00")
        assert read == [event["id"]]
        with transaction(archive.factory) as session:
            stored = session.get(Cluster, event["id"])
            urls = {a["url"] for c in archive.clusters(kind="event") if c["id"] == event["id"] for a in c["articles"]}
            assert "https://reprint.example/1" in urls and stored.size == len(urls)
            shared = set(before) & set(stored.centroid)
            assert shared and sum(stored.centroid[t] for t in shared) > sum(before[t] for t in shared) + 0.5


def test_an_event_met_through_the_batch_and_the_archive_takes_one_place():
    """An archived event that an earlier article of the batch joined is named by its _Cluster
    through that article and by its id through archived ones: it must take one of the
    `max_event_candidates` places, not two, or placements depend on where batches end (seen
    with 10,000 articles placed into a 225,000-article archive: 14 events differed between
    commits of 500 and of 2,000)."""
    from archive.pipeline.store import EVENT, Placer, _Article, _BatchPlacement, _Cluster

    settings = load_settings({})
    settings = dataclasses.replace(settings, matching=dataclasses.replace(settings.matching, max_event_candidates=2))
    placement = _BatchPlacement(Placer(settings), session=None, fresh=[])
    archived = _Cluster(kind=EVENT, representative_id=1, id=100)
    other = _Cluster(kind=EVENT, representative_id=3, id=200)
    placement.clusters = {100: archived, 200: other}
    placement.member_of = {1: {EVENT: 100}, 2: {EVENT: archived}, 3: {EVENT: 200}}
    article = _Article(index=0, prepared=None, url="https://news.example/new", source_name=None, id=4)
    assert placement._first_events(article, [2, 1, 3]) == [archived, other]


def test_workers_prepare_a_whole_commit_ahead():
    """While the writer places one commit the workers prepare the next: a commit of several
    batches keeps that many in flight, never fewer than two per worker."""
    from archive.pipeline.batch import PreparePool

    for batch_size, commit_size, workers, expected in ((200, 1000, 2, 5), (500, 1000, 2, 4), (500, 0, 2, 4),
                                                       (100, 250, 1, 3), (200, 3000, 4, 15)):
        settings = dataclasses.replace(load_settings({}), batch_size=batch_size, commit_size=commit_size)
        with PreparePool(settings, workers) as pool:
            assert pool.in_flight == expected, (batch_size, commit_size, workers)


def test_first_events_read_only_the_memberships_they_need(sqlite_url):
    """An article's first `max_event_candidates` events come from its best candidates: their
    memberships are read up to where those events are found (all the rest in one more query
    when the ones read do not give them), and the events are those a full read gives."""
    from archive.db.engine import transaction
    from archive.pipeline.store import EVENT, Placer, _Article, _BatchPlacement, _event_key

    with open_archive(sqlite_url, 50) as archive:
        archive.upgrade()
        archive.ingest_documents(documents(corpus(n_originals=30, seed=11)))
        settings = dataclasses.replace(archive.settings, matching=dataclasses.replace(
            archive.settings.matching, max_event_candidates=3))
        article = _Article(index=0, prepared=None, url="https://news.example/new", source_name=None, id=10_000)
        with transaction(archive.factory) as session:
            ids = [i for (i,) in session.execute(select(ClusterMember.article_id).distinct())]
            random.Random(3).shuffle(ids)
            full = _BatchPlacement(Placer(settings), session, fresh=[])
            full._load_memberships(ids, with_clusters=False)
            expected = list(dict.fromkeys(k for k in (_event_key(full.member_of[i].get(EVENT)) for i in ids) if k))[:3]
            assert len(expected) == 3

            seen: set = set()
            for needed, i in enumerate(ids, 1):  # the candidates that give the first three events
                seen.add(_event_key(full.member_of[i].get(EVENT)))
                if len(seen - {None}) == 3:
                    break
            assert needed < len(ids)

            lazy = _BatchPlacement(Placer(settings), session, fresh=[])
            lazy.member_of = {i: full.member_of[i] for i in ids[:needed]}  # as look_up reads the best ones
            assert lazy._first_event_keys(article, ids) == expected
            assert set(lazy.member_of) == set(ids[:needed])  # nothing more read
            lazy.member_of = {i: full.member_of[i] for i in ids[:needed - 1]}
            assert lazy._first_event_keys(article, ids) == expected
            assert set(lazy.member_of) == set(ids)  # the rest read at once, as the walk needed more


def test_prepared_articles_carry_their_bytes_once_and_the_archive_keeps_them_whole(sqlite_url):
    """A prepared article holds its raw bytes compressed only (what waits between the workers and
    the writer is halved); the archive still stores every byte and the size received."""
    from archive.pipeline import raw

    records = corpus(n_originals=3)
    docs = documents(records)
    prepared = [p for p in prepare_batch(docs, load_settings({})).items if not isinstance(p, Rejection)]
    assert prepared and all(p.doc.content == b"" and p.raw_size for p in prepared)
    assert all(p.doc.fields == ({"id": r["id"]}) for p, r in zip(prepared, records))
    with open_archive(sqlite_url, 4) as archive:
        archive.upgrade()
        archive.ingest_documents(docs)
        with archive.session() as session:
            stored = {row[0]: (row[1], raw.decompress(row[2], row[3])) for row in session.execute(
                select(RawDocument.sha256, RawDocument.size, RawDocument.content, RawDocument.compression))}
    assert stored == {d.sha256: (len(d.content), d.content) for d in docs}


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), max_size=30, unique=True), max_size=12), st.integers(1, 12))
def test_most_shared_ranks_like_counting_each_id(postings, limit):
    """The event candidates: the ids listed under the most keys, ties to the highest id."""
    from collections import Counter

    from archive.pipeline.store import _most_shared, _top

    ids = np.array([i for part in postings for i in part], dtype=np.uint32)
    assert _most_shared(ids, limit) == _top(Counter(ids.tolist()), limit)
