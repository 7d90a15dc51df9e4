"""The preparing-only benchmark: stage times per article and a digest of what was prepared."""

from __future__ import annotations

import json

from benchmarks import prepare
from tests.test_batch import corpus, documents, open_archive


def _run(path, capsys) -> dict:
    assert prepare.main(["--input", str(path), "--warm-up", "2", "--records", "20", "--repeat", "2",
                         "--batch-size", "7", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_times_the_stages_and_digests_what_was_prepared(tmp_path, capsys):
    records = corpus(n_originals=14, seed=5)[:22]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")

    first, second = _run(source, capsys), _run(source, capsys)
    assert first["records"] == 20
    assert first["ms_per_article"]["total"] > 0 and len(first["passes_ms"]) == 2
    assert first["digest"] == second["digest"]

    records[10]["text"] += "\n\nOne more paragraph, about something else entirely."
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    assert _run(source, capsys)["digest"] != first["digest"]


def test_strips_what_an_archive_has_learned(sqlite_url, tmp_path, capsys):
    """With --learned-from, a source's learned boilerplate is stripped as a run's workers strip it."""
    footer = "Subscribe to the Daily Example for more."
    records = [{**r, "text": r["text"] + "\n\n" + footer, "source": "daily.example"}
               for r in corpus(n_originals=14, seed=5) if r["id"].startswith("o")]
    with open_archive(sqlite_url, 50) as archive:
        archive.upgrade()
        archive.ingest_documents(documents(records[:8]))
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[8:]), encoding="utf-8")
    args = ["--input", str(source), "--warm-up", "1", "--records", "5", "--repeat", "1", "--json"]

    assert prepare.main(args) == 0
    plain = json.loads(capsys.readouterr().out)
    assert prepare.main(args + ["--learned-from", sqlite_url.removeprefix("sqlite:///")]) == 0
    stripped = json.loads(capsys.readouterr().out)
    assert plain["learned_sources"] == 0 and stripped["learned_sources"] == 1
    assert stripped["digest"] != plain["digest"]
