"""`archive calibrate`: thresholds chosen on labelled pairs of archived articles and written to the
configuration file, through the real CLI on an archive filled by real ingest (both databases)."""

from __future__ import annotations

import itertools
import json
import tomllib

from click.testing import CliRunner

from archive.cli import cli
from archive.cli.context import open_archive
from archive.config import load_settings
from tests import corpus


def run(*args: str, code: int = 0) -> str:
    open_archive.cache_clear()
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result.output


def labelled_pairs(truth: dict) -> list[dict]:
    """Every pair of the corpus, labelled from its truth: COPY, SAME_EVENT or UNRELATED."""
    event_of = {url: n for n, urls in enumerate(truth["events"]) for url in urls}
    original = {url: truth["copies"].get(url, (url,))[0] for url in event_of}
    out = []
    for a, b in itertools.combinations(sorted(event_of), 2):
        label = ("COPY" if original[a] == original[b] else
                 "SAME_EVENT" if event_of[a] == event_of[b] else "UNRELATED")
        out.append({"a": a, "b": b, "label": label})
    return out


def test_calibrate_reports_and_writes_thresholds(archive, tmp_path, monkeypatch):
    truth = corpus.write(tmp_path / "corpus.jsonl")
    run("ingest", str(tmp_path / "corpus.jsonl"))
    labels = tmp_path / "labels.jsonl"
    pairs = labelled_pairs(truth)
    pairs.append({"a": "https://nowhere.example/x", "b": pairs[0]["a"], "label": "UNRELATED"})
    labels.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    config = tmp_path / "archive.toml"
    config.write_text("# my settings\n[matching]\nevent_window_days = 4.0\n")
    monkeypatch.setenv("ARCHIVE_CONFIG", str(config))

    report = json.loads(run("calibrate", str(labels), "--dry-run", "--json"))
    assert not report["written"] and config.read_text().startswith("# my settings")
    sweeps = {s["setting"]: s for s in report["sweeps"]}
    copies = sweeps["copy_containment"]
    assert copies["positives"] == 5 and copies["pairs"] == len(pairs) - 1
    assert report["missing"] == [{"line": len(pairs), "a": "https://nowhere.example/x", "b": pairs[0]["a"]}]
    best = next(r for r in copies["rows"] if r["threshold"] == copies["chosen"])
    assert (best["precision"], best["recall"]) == (1.0, 1.0)
    # every pair right at the chosen value: every draw of the pairs is as right
    assert copies["interval"]["f1"] == [1.0, 1.0] and copies["interval"]["rounds"] == 1000
    events = sweeps["event_similarity"]
    assert events["chosen"] is not None
    assert next(r for r in events["rows"] if r["threshold"] == events["chosen"])["f1"] == 1.0

    out = run("calibrate", str(labels))
    assert "copy_containment" in out and "wrote" in out
    assert "90% intervals over draws of the pairs" in " ".join(out.split())
    written = tomllib.loads(config.read_text())["matching"]
    assert written["copy_containment"] == copies["chosen"] and written["event_similarity"] == events["chosen"]
    assert written["event_window_days"] == 4.0 and config.read_text().startswith("# my settings")
    settings = load_settings()
    assert settings.matching.copy_containment == copies["chosen"]


def test_calibrate_bad_labels_are_one_clear_line(archive, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1, "b": 2, "label": "COPY"}\n{"a": 1, "label": "COPY"}\n')
    out = run("calibrate", str(bad), code=2)
    assert f"{bad}:2" in out and len(out.strip().splitlines()) == 1
    bad.write_text('{"a": 1, "b": 2, "label": "MAYBE"}\n')
    assert "unknown label 'MAYBE'" in run("calibrate", str(bad), code=2)
    assert "cannot read labels file" in run("calibrate", str(tmp_path / "absent.jsonl"), code=2)
