"""`archive export`: articles or clusters as JSON Lines or CSV, streamed to stdout or a file."""

from __future__ import annotations

import sys

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import err_console
from archive.cli.params import since_option, until_option


@cli.command()
@click.option("--what", type=click.Choice(["articles", "clusters"]), default="articles", show_default=True,
              help="One line per article, or per active cluster (with its members and sources).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@since_option
@until_option
@click.option("--no-text", is_flag=True, help="Leave the articles' clean text out.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file "
              "instead of stdout.")
def export(what: str, fmt: str, since, until, no_text: bool, output: str | None) -> None:
    """Stream articles or clusters out, in bounded memory, as JSON Lines or CSV.

    \b
    Example:
      archive export --what clusters --format csv --since 2025-03-01 -o clusters.csv
      archive export --what articles --since 7d | gzip > week.jsonl.gz
    """
    archive = open_archive()
    progress = Progress(SpinnerColumn(), TextColumn("[bold]export[/] {task.completed} rows"), TimeElapsedColumn(),
                        console=err_console, transient=True, disable=not err_console.is_terminal)
    out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        with progress:
            task = progress.add_task("export", total=None)
            count = archive.export(what, fmt, out, since=since, until=until, with_text=not no_text,
                                   on_row=lambda n: progress.update(task, completed=n) if n % 500 == 0 else None)
    finally:
        if output:
            out.close()
    if output:
        err_console.print(f"{count} {what} written to {output}")
