"""`archive ingest`: files, folders and JSONL into the archive, with a progress bar."""

from __future__ import annotations

import click
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@json_option
def ingest(paths: tuple[str, ...], as_json: bool) -> None:
    """Ingest files, folders (walked), JSONL (.jsonl, .gz, .zst) or `-` (JSONL on stdin).

    Each input is archived as new, linked as a copy, skipped as a duplicate, or rejected with a
    reason; one bad input never stops the run.

    \b
    Example:
      archive ingest seeds/ more-news/*.html dump.jsonl.gz
    """
    archive = open_archive()
    progress = Progress(
        SpinnerColumn(), TextColumn("[bold]ingest[/]"), BarColumn(bar_width=None),
        TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=console, transient=True,
        disable=as_json,
    )

    def update(summary, _item) -> None:
        stats = (f"read {summary.read}  new {summary.new}  copies {summary.copies}  "
                 f"duplicates {summary.duplicates}  rejected {summary.rejected}")
        progress.update(task, advance=1, stats=stats)

    with progress:
        task = progress.add_task("ingest", total=None, stats="")
        summary = archive.ingest_paths(paths, progress=update)
    if as_json:
        print_json(summary.as_dict())
        return
    print_table(
        [{"run": summary.run_id, "read": summary.read, "new": summary.new, "copies": summary.copies,
          "duplicates": summary.duplicates, "rejected": summary.rejected, "status": summary.status}],
        [("run", "run"), ("read", "read"), ("new", "new"), ("copies", "copies"), ("duplicates", "duplicates"),
         ("rejected", "rejected"), ("status", "status")],
        title="Ingest summary",
    )
    if summary.rejections:
        print_table([r.__dict__ for r in summary.rejections[:50]],
                    [("location", "input"), ("reason", "reason"), ("detail", "detail")], title="Rejected inputs")
