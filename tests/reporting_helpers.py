"""Shared by the admin CLI tests: a real archive filled by real ingest, and the CLI runner."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.api import Archive
from archive.cli import cli, output
from archive.cli.context import open_archive
from archive.config import load_settings
from archive.pipeline.loaders import load
from tests import corpus
from tests.conftest import SEEDS, _truncate_pg

# Seeds carry no date: their fetch time is fixed so both databases hold identical rows.
SEED_FETCHED = dt.datetime(2025, 6, 1, 12, 0, 0)


@dataclasses.dataclass
class Filled:
    url: str
    truth: dict
    corpus_path: Path

    def archive(self) -> Archive:
        return Archive(load_settings({"ARCHIVE_DATABASE_URL": self.url}))


def invoke(url: str, *args: str, code: int = 0) -> str:
    """Run the real CLI against `url`; assert the exit status; return stdout (stderr on failure)."""
    open_archive.cache_clear()
    width, output.console.width = output.console.width, 200  # tables unwrapped, so words stay whole
    try:
        result = CliRunner().invoke(cli, list(args), env={"ARCHIVE_DATABASE_URL": url, "ARCHIVE_CONFIG": None},
                                    catch_exceptions=False)
    finally:
        output.console.width = width
        open_archive.cache_clear()
    assert result.exit_code == code, result.output
    return result.output


def invoke_json(url: str, *args: str):
    return json.loads(invoke(url, *args))


def fill(url: str, folder: Path) -> Filled:
    """Seeds (through the library, with a fixed fetch time) and the generated corpus (through the CLI)."""
    docs = []
    for item in load([SEEDS]):
        item.fetched_at = SEED_FETCHED
        docs.append(item)
    arc = Archive(load_settings({"ARCHIVE_DATABASE_URL": url}))
    try:
        summary = arc.ingest_documents(docs)
        assert summary.new == 2
    finally:
        arc.close()
    path = folder / "corpus.jsonl"
    truth = corpus.write(path)
    summary = invoke_json(url, "ingest", str(path), "--json")
    assert (summary["new"], summary["copies"], summary["rejected"]) == (6, 4, 0), summary
    return Filled(url, truth, path)


def sqlite_copy(template: Path, folder: Path) -> str:
    path = folder / "archive.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def filled(request, sqlite_template, tmp_path_factory):
    """backend name -> Filled archive; PostgreSQL only when a server is reachable."""
    out = {"sqlite": fill(sqlite_copy(sqlite_template, tmp_path_factory.mktemp("rep")), tmp_path_factory.mktemp("c"))}
    try:
        pg = request.getfixturevalue("pg_database")
    except pytest.skip.Exception:
        return out
    _truncate_pg(pg)
    out["postgresql"] = fill(pg, tmp_path_factory.mktemp("c"))
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def arc(request, filled):
    if request.param not in filled:
        pytest.skip("PostgreSQL not reachable")
    return filled[request.param]
