"""`archive report NAME`: named reports over the reporting views."""

from __future__ import annotations

import click

from archive import reporting
from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import format_option, print_rows
from archive.cli.params import since_option, until_option


@cli.command()
@click.argument("name", required=False)
@since_option
@until_option
@click.option("--limit", type=click.IntRange(min=1), help=f"At most this many rows (default {reporting.DEFAULT_LIMIT}).")
@format_option
def report(name: str | None, since, until, limit: int | None, fmt: str) -> None:
    """Run a named report (read-only); without NAME, list the reports. --since defaults to a week ago.

    \b
    Example:
      archive report top_events --since 7d
      archive report republishers --since 2025-01-01 --format csv
    """
    archive = open_archive()
    archive.require_schema()
    if not name:
        rows = [{"report": r.name, "shows": r.description} for r in reporting.reports().values()]
        print_rows(rows, ["report", "shows"], fmt, title="Reports")
        return
    result = archive.report(name, since=since, until=until, limit=limit)
    print_rows(result.as_dicts(), result.columns, fmt, title=reporting.report(name).description)
