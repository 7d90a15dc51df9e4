"""`archive db backup PATH`: a consistent copy of the archive while ingest runs."""

from __future__ import annotations

import click

from archive.cli.context import open_archive
from archive.cli.db import db
from archive.cli.output import console, json_option, print_json


@db.command()
@click.argument("path", type=click.Path(dir_okay=False))
@json_option
def backup(path: str, as_json: bool) -> None:
    """Copy the SQLite archive to PATH, consistently, even while ingest runs.

    For a PostgreSQL archive this explains the pg_dump command to use instead.

    \b
    Example:
      archive db backup backups/archive-$(date +%F).db
    """
    archive = open_archive()
    with console.status(f"backing up {archive.url}", spinner="dots"):
        result = archive.backup(path)
    if as_json:
        print_json(result)
        return
    console.print(f"backup of {result['source']} written to [bold]{result['target']}[/] ({result['bytes']} bytes)")
