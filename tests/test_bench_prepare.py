"""The preparing-only benchmark: stage times per article and a digest of what was prepared."""

from __future__ import annotations

import json

from benchmarks import prepare
from tests.test_batch import corpus


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
