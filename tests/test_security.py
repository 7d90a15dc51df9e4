"""Security: every CLI filter reaches SQL as a bound parameter; passwords never printed or logged."""

from __future__ import annotations

import logging
import re

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from archive.cli import cli
from archive.db.models import Base
from tests import synth

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE articles; --",
    "%' OR 1=1 --",
    "\"); DELETE FROM clusters; --",
    "x' UNION SELECT id, url FROM articles --",
    "1) OR (1=1",
]
# Commands that write, crawl, block or need a network are not probed with junk filters.
NOT_PROBED = {"ingest", "crawl", "load", "run", "serve", "schedule", "scheduler", "upgrade", "backup",
              "calibrate", "merge", "split", "detach", "link", "decide", "recluster", "import", "export-to"}


def leaf_commands(group: click.Group, prefix=()):
    for name, command in sorted(group.commands.items()):
        if name in NOT_PROBED:
            continue
        if isinstance(command, click.Group):
            yield from leaf_commands(command, prefix + (name,))
        else:
            yield prefix + (name,), command


def filters():
    """(command path, option name or argument position, valid values for the required arguments)."""
    out = []
    for path, command in leaf_commands(cli):
        args = [p for p in command.params if isinstance(p, click.Argument)]
        if any(not isinstance(a.type, (click.types.IntParamType, click.types.StringParamType, click.Path)) for a in args):
            continue
        fill = ["1"] * sum(1 for a in args if a.required)
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and not param.count and param.opts[0] != "--help":
                out.append((path, param.opts[0], fill))
        for i, _ in enumerate(args):  # each argument is a filter too
            out.append((path, i, ["1"] * max(len(fill), i + 1)))
    return out


def snapshot(archive) -> dict[str, int]:
    with archive.session() as s:
        return {t.name: s.scalar(text(f'SELECT count(*) FROM "{t.name}"')) for t in Base.metadata.sorted_tables}


def test_injection_strings_in_every_filter_change_nothing(archive, tmp_path):
    archive.ingest_paths(synth.write_files(tmp_path / "in", range(3), reprints=1))
    before = snapshot(archive)
    probed = set()
    runner = CliRunner()
    for path, option, fill in filters():
        for value in INJECTIONS:
            args = list(fill)
            if isinstance(option, int):
                args[option] = value
                argv = [*path, *args]
            else:
                argv = [*path, option, value, *args]
            result = runner.invoke(cli, argv)
            assert result.exit_code in (0, 1, 2), (argv, result.output, result.exception)
            if result.exception and not isinstance(result.exception, SystemExit):
                raise AssertionError(f"{argv} raised {result.exception!r}")
            assert "Traceback" not in result.output
        probed.add(" ".join(path) + f" {option}")
    assert {"clusters --kind", "clusters --min-size", "clusters --limit", "cluster 0", "article 0"} <= probed
    assert {"clusters --source", "clusters --title", "clusters --since", "report 0", "report --since",
            "export --since", "similar --url", "sql 0"} <= probed  # the admin filters
    assert snapshot(archive) == before
    assert archive.check().ok


def test_library_filters_bind_values(archive, tmp_path):
    archive.ingest_paths(synth.write_files(tmp_path / "in", range(2)))
    before = snapshot(archive)
    for value in INJECTIONS:
        assert archive.clusters(kind=value) == []
        assert archive.find_article(value) is None
    assert snapshot(archive) == before


@pytest.fixture
def secret_url(db_url, monkeypatch):
    """The test database's URL with a password in it (the local server trusts 127.0.0.1 and ignores it)."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite URLs carry no password")
    url = db_url.replace("postgres@", "postgres:S3cr3t-pw@")
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", url)
    return url


def test_passwords_are_masked_in_output_errors_and_logs(archive, secret_url, tmp_path, caplog):
    from archive.cli.context import open_archive

    open_archive.cache_clear()
    runner = CliRunner()
    caplog.set_level(logging.DEBUG)
    outputs = []
    for argv in (["-vv", "db", "upgrade"], ["-vv", "ingest", str(synth.write_files(tmp_path / "in", [1])[0])],
                 ["clusters"], ["check"], ["db", "backup", str(tmp_path / "b.db")]):
        result = runner.invoke(cli, argv)
        outputs.append(result.output)
        assert result.exit_code in (0, 2), result.output
    down = secret_url.rsplit("@", 1)[0] + "@127.0.0.1:1/none"
    for argv in (["clusters"], ["check"], ["ingest", str(tmp_path / "in")]):
        open_archive.cache_clear()
        result = CliRunner().invoke(cli, argv, env={"ARCHIVE_DATABASE_URL": down})
        assert result.exit_code == 2, result.output
        assert re.search(r"error: database postgresql\+psycopg://postgres:\*\*\*@127\.0\.0\.1:1/none", result.output)
        outputs.append(result.output)
    open_archive.cache_clear()
    everything = "\n".join(outputs) + caplog.text
    assert "S3cr3t-pw" not in everything
    assert "postgres:***@" in everything


def test_url_passwords_are_masked_in_every_log_handler():
    import subprocess
    import sys

    code = """
import logging
from archive.cli import cli
cli(["-v", "db", "--help"], standalone_mode=False)  # the CLI configures logging, masking included
logging.getLogger("archive.anything").warning("frontier at %s", "redis://:S3cr3t-pw@127.0.0.1:6379/0")
from scrapy.utils.log import configure_logging
from archive import logmask
configure_logging({"LOG_LEVEL": "INFO"})  # what a crawl child process installs
logmask.install()
logging.getLogger("scrapy.crawler").info("Overridden settings: %s", {"REDIS_URL": "redis://u:S3cr3t-pw@h:1/0"})
try:
    raise ValueError("cannot reach postgresql://news:S3cr3t-pw@db/news")
except ValueError:
    logging.getLogger("archive.pipeline.ingest").exception("run failed")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "S3cr3t-pw" not in result.stderr + result.stdout
    for masked in ("redis://:***@127.0.0.1", "redis://u:***@h:1", "postgresql://news:***@db"):
        assert masked in result.stderr, result.stderr
