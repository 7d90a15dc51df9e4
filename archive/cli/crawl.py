"""`archive crawl`: crawl declared sources (each in a child process) into the archive."""

from __future__ import annotations

import logging
import sys

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table

COLUMNS = [("source", "source"), ("run_id", "run"), ("status", "status"), ("pages_fetched", "pages"),
           ("not_modified", "304s"), ("new", "new"), ("copies", "copies"), ("duplicates", "duplicates"),
           ("rejected", "rejected"), ("errors", "errors"), ("skipped", "skipped"), ("seconds", "seconds")]


@cli.command()
@click.argument("source", required=False)
@click.option("--all", "all_sources", is_flag=True, help="Crawl every declared source, one after the other.")
@json_option
def crawl(source: str | None, all_sources: bool, as_json: bool) -> None:
    """Crawl a source declared in the configuration file (see README.md, "Crawling").

    Prints a progress line, then a summary: pages fetched, 304s, articles new, copies found,
    duplicates, rejected, errors. Exits 1 when a crawl fails, 2 for an unknown source.

    \b
    Example:
      archive crawl example-news
      archive crawl --all --json
    """
    if bool(source) == all_sources:
        raise click.UsageError("name one SOURCE, or give --all")
    archive = open_archive()
    names = [s.name for s in archive.crawl_sources()] if all_sources else [source]
    level = logging.getLogger().getEffectiveLevel()
    summaries = []
    for name in names:
        with Progress(SpinnerColumn(), TextColumn(f"[bold]crawl {name}[/]"), TextColumn("{task.fields[stats]}"),
                      TimeElapsedColumn(), console=console, transient=True, disable=as_json) as progress:
            task = progress.add_task(name, total=None, stats="starting")

            def update(line: dict, task=task, progress=progress) -> None:
                progress.update(task, stats="  ".join(f"{k.replace('_', ' ')} {v}" for k, v in line.items()))

            summaries.append(archive.crawl(name, progress=update, log_level=logging.getLevelName(level),
                                           show_log=level <= logging.INFO))
    failed = [s for s in summaries if not s.ok]
    if as_json:
        if all_sources:
            print_json({"status": "failed" if failed else "ok", "crawls": [s.as_dict() for s in summaries]})
        else:
            print_json(summaries[0].as_dict())
    else:
        print_table([s.as_dict() for s in summaries], COLUMNS, title="Crawl summary")
        for s in summaries:
            if s.error:
                console.print(f"[red]{s.source}: {s.error}[/]")
            for sample in s.error_samples[:10]:
                console.print(f"  {sample['url']}: {sample['reason']}")
    if failed:
        sys.exit(1)
