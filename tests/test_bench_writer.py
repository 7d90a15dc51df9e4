"""The writer-only benchmark: prepared batches placed into a copy of an archive, never the archive."""

from __future__ import annotations

import json
import random
from pathlib import Path

from benchmarks import writer
from tests.test_batch import corpus, documents, open_archive, synthetic_text


def _write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_places_into_a_copy_and_gives_the_same_digest_each_time(sqlite_url, tmp_path, capsys):
    records = corpus(n_originals=6, seed=3)
    with open_archive(sqlite_url, 50) as archive:
        archive.upgrade()
        base = archive.ingest_documents(documents(records))
        stored = base.new + base.copies
    originals = [r for r in records if r["id"].startswith("o")]
    extra = [{**r, "id": f"x{r['id']}", "url": r["url"].replace("news.example", "mirror.example"),
              "text": r["text"] + "\n\nMirrored by mirror.example", "source": "mirror"} for r in originals]
    extra.append({"id": "fresh", "url": "https://fresh.example/1", "title": "Fresh", "published": "2025-04-01",
                  "text": synthetic_text(random.Random(99))})
    source = tmp_path / "extra.jsonl"
    _write_jsonl(source, extra)
    db = sqlite_url.removeprefix("sqlite:///")

    assert writer.main(["--archive", db, "--input", str(source), "--workers", "0", "--repeat", "2", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["articles"] for r in runs] == [len(extra)] * 2
    assert runs[0]["copies"] == len(originals) and runs[0]["new"] == 1
    assert runs[0]["placements"] == runs[1]["placements"]
    if Path("/proc/self/io").exists():  # the copy's pages were read and the batches logged
        assert all(r["read_kb"] > 0 and r["written_kb"] > 0 for r in runs)
    assert (tmp_path / "extra.jsonl.prepared-500.pickle").exists()
    with open_archive(sqlite_url, 50) as archive:  # the archive itself is untouched
        assert archive.counts()["articles"] == stored
