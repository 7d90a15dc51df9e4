"""`archive ingest`: files, folders and JSONL into the archive, with a progress bar."""

from __future__ import annotations

import click
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Processes that decode, extract, clean and fingerprint while this one places and "
                   "commits (0: all in this process). Default: one per CPU once the input holds more "
                   "than one batch; a few files stay in this process.")
@json_option
def ingest(paths: tuple[str, ...], workers: int | None, as_json: bool) -> None:
    """Ingest files, folders (walked), JSONL (.jsonl, .gz, .zst), WARC (.warc, .warc.gz) or `-` (JSONL on stdin).

    Each input is archived as new, linked as a copy, skipped as a duplicate, or rejected with a
    reason; one bad input never stops the run. Inputs are streamed in batches (ARCHIVE_BATCH_SIZE),
    each committed in one transaction.

    \b
    Example:
      archive ingest seeds/ more-news/*.html dump.jsonl.gz
      archive ingest --workers 0 notes/          # one process, nothing spawned
    """
    archive = open_archive()
    progress = Progress(
        SpinnerColumn(), TextColumn("[bold]ingest[/]"), BarColumn(bar_width=None),
        TextColumn("{task.fields[stats]}"), TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(), console=console, transient=True, disable=as_json,
    )

    def update(summary, _item) -> None:
        stats = (f"read {summary.read}  stored {summary.new + summary.copies}  copies {summary.copies}  "
                 f"duplicates {summary.duplicates}  rejected {summary.rejected}")
        elapsed = progress.tasks[0].elapsed or 0.0
        rate = f"{summary.read / elapsed:,.0f} read/s" if elapsed > 0 else ""
        progress.update(task, advance=1, stats=stats, rate=rate)

    with progress:
        task = progress.add_task("ingest", total=None, stats="", rate="")
        summary = archive.ingest_paths(paths, progress=update, workers=workers)
    if as_json:
        print_json(summary.as_dict())
        return
    print_table(
        [{"run": summary.run_id, "read": summary.read, "new": summary.new, "copies": summary.copies,
          "duplicates": summary.duplicates, "rejected": summary.rejected, "status": summary.status,
          "workers": summary.workers, "waited": _waited(summary)}],
        [("run", "run"), ("read", "read"), ("new", "new"), ("copies", "copies"), ("duplicates", "duplicates"),
         ("rejected", "rejected"), ("status", "status"), ("workers", "workers"),
         ("waited", "waited")],
        title="Ingest summary",
    )
    if summary.rejections:
        print_table([r.__dict__ for r in summary.rejections[:50]],
                    [("location", "input"), ("reason", "reason"), ("detail", "detail")], title="Rejected inputs")


def _waited(summary) -> str:
    """The writer's wait for prepared batches, in seconds and as a share of the run ("-" without workers)."""
    if not summary.workers:
        return "-"
    seconds = (summary.finished_at - summary.started_at).total_seconds() if summary.finished_at else 0.0
    share = f" ({100 * summary.waited / seconds:.0f}%)" if seconds > 0 else ""
    return f"{summary.waited:.1f} s{share}"
