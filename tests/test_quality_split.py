"""`benchmarks/quality.py --split`: the held-out files are read when asked for, and only then."""

from __future__ import annotations

import gzip
import json

import pytest

from benchmarks import quality
from tests import synth


def _shared_with_test_split(root):
    """A ../shared look-alike holding a sina-zh test split only: synthetic texts, two labels."""
    (root / "corpora").mkdir(parents=True)
    (root / "eval" / "sina-zh").mkdir(parents=True)
    rows = [
        {"id": "s-1", "title": "Report one", "text": synth.body(1), "source": "sina"},
        {"id": "s-1r", "title": "Report one again", "text": synth.body(1) + "\n\nShared by outlet 7.", "source": "sina"},
        {"id": "s-2", "title": "Report two", "text": synth.body(2), "source": "sina"},
        {"id": "s-3", "title": "Report three", "text": synth.body(3), "source": "sina"},
    ]
    with gzip.open(root / "corpora" / "sina-2018-zh.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    pairs = [{"a": "s-1", "b": "s-1r", "label": "COPY"}, {"a": "s-2", "b": "s-3", "label": "UNRELATED"}]
    (root / "eval" / "sina-zh" / "pairs.test.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    return root


def test_test_split_is_read_and_named(tmp_path, capsys):
    shared = _shared_with_test_split(tmp_path / "shared")
    out = tmp_path / "quality.json"
    assert quality.main(["--only", "sina-zh", "--split", "test", "--shared", str(shared), "--json", str(out)]) == 0
    result = json.loads(out.read_text())["sina-zh"]
    assert result["articles"] == 4
    assert "test pairs" in result["note"]
    labels = result["project"]["labels"]
    assert labels["COPY"] == {"pairs": 1, "same_copy": 1, "same_event": 1}
    assert labels["UNRELATED"]["same_event"] == 0


def test_default_split_is_dev_and_its_absence_is_said(tmp_path):
    shared = _shared_with_test_split(tmp_path / "shared")
    out = tmp_path / "quality.json"
    quality.main(["--only", "sina-zh", "--shared", str(shared), "--json", str(out)])
    skipped = json.loads(out.read_text())["sina-zh"]["skipped"]
    assert "pairs.dev.jsonl" in skipped and "not found" in skipped


def test_a_split_is_a_plain_name(tmp_path):
    with pytest.raises(SystemExit):
        quality.main(["--split", "../elsewhere", "--json", str(tmp_path / "q.json")])
