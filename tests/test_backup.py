"""`archive db backup`: a consistent SQLite copy taken while another process ingests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from archive.cli import cli
from tests import synth

ARCHIVE = [sys.executable, "-c", "from archive.cli import main; main()"]


def invoke(argv: list[str], url: str):
    from archive.cli.context import open_archive

    open_archive.cache_clear()
    try:
        return CliRunner().invoke(cli, argv, env={"ARCHIVE_DATABASE_URL": url})
    finally:
        open_archive.cache_clear()


def count_articles(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM articles"))
    finally:
        engine.dispose()


def test_backup_while_ingest_runs_is_consistent(sqlite_url, tmp_path):
    files = synth.write_files(tmp_path / "in", range(150), reprints=1)
    env = {**os.environ, "ARCHIVE_DATABASE_URL": sqlite_url}
    worker = subprocess.Popen(ARCHIVE + ["ingest", str(tmp_path / "in"), "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while count_articles(sqlite_url) < 20 and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        target = tmp_path / "backup.db"
        result = invoke(["db", "backup", str(target), "--json"], sqlite_url)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["target"] == str(target)
        assert not (tmp_path / "backup.db-wal").exists()  # a self-contained file
    finally:
        out, err = worker.communicate(timeout=300)
    assert worker.returncode == 0, err.decode()
    assert json.loads(out)["read"] == len(files)
    copied = count_articles(f"sqlite:///{target}")
    assert 20 <= copied <= len(files)
    check = invoke(["check", "--json"], f"sqlite:///{target}")
    assert check.exit_code == 0, check.output


def test_backup_refuses_to_overwrite_and_explains_pg_dump(sqlite_url, tmp_path):
    target = tmp_path / "exists.db"
    target.write_bytes(b"keep me")
    result = invoke(["db", "backup", str(target)], sqlite_url)
    assert result.exit_code == 2 and "already exists" in result.output
    assert target.read_bytes() == b"keep me"
    pg = "postgresql://news:pw@db.internal:5433/news"
    result = invoke(["db", "backup", str(tmp_path / "x")], pg)
    assert result.exit_code == 2
    assert "pg_dump --format=custom --host=db.internal --port=5433 --username=news" in result.output
    assert "pw" not in result.output.replace("pg_dump", "")
