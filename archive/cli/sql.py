"""`archive sql`: any query, on a connection where the database itself refuses writes."""

from __future__ import annotations

import click

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import format_option, print_rows


@cli.command()
@click.argument("query")
@format_option
def sql(query: str, fmt: str) -> None:
    """Run one SQL statement read-only: SQLite is opened with mode=ro, PostgreSQL runs it in a
    read-only transaction, so a write fails in the database and the archive stays unchanged.
    The reporting views (report_clusters, report_copies, report_sources, report_days,
    report_articles) are described in docs/reporting.md.

    \b
    Example:
      archive sql "SELECT source, copy_percent FROM report_sources ORDER BY copy_percent DESC" --format csv
    """
    archive = open_archive()
    archive.require_schema()
    result = archive.sql(query)
    print_rows(result.as_dicts(), result.columns, fmt)
