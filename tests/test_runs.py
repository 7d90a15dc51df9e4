"""`archive runs`: every run, by hand or scheduled, is one row with counts, duration, status and error."""

from __future__ import annotations

import json

from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import SEEDS
from tests.test_scheduler import write_stories


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_runs_lists_manual_and_scheduled_runs_newest_first(archive, tmp_path):
    assert invoke("ingest", str(SEEDS)).exit_code == 0
    write_stories(tmp_path / "inbox", 2)
    archive.load_new(str(tmp_path / "inbox"), "inbox")
    try:
        archive.load_new(str(tmp_path / "gone"), "gone")
    except Exception:
        pass

    result = invoke("runs", "--json")
    assert result.exit_code == 0, result.output
    gone, inbox, manual = json.loads(result.output)
    assert (manual["kind"], manual["job_name"], manual["status"], manual["new"], manual["read"]) == \
        ("ingest", None, "ok", 2, 2)
    assert manual["events_touched"] >= 1 and manual["duration_s"] >= 0 and manual["error"] is None
    assert (inbox["kind"], inbox["job_name"], inbox["new"], inbox["copies"], inbox["rejected"]) == \
        ("scheduled", "inbox", 2, 0, 0)
    assert gone["status"] == "failed" and "does not exist" in gone["error"]

    assert [r["job_name"] for r in json.loads(invoke("runs", "--json", "--limit", "1").output)] == ["gone"]
    assert [r["id"] for r in json.loads(invoke("runs", "--json", "--job", "inbox").output)] == [inbox["id"]]

    table = invoke("runs").output
    assert "inbox" in table and "ingest" in table and "failed" in table and "does not exist" in table


def test_runs_rejects_a_bad_limit(archive):
    result = CliRunner().invoke(cli, ["runs", "--limit", "0"])
    assert result.exit_code == 2 and "--limit" in result.output
