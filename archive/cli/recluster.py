"""`archive recluster`: rebuild clusters with other thresholds, from stored data only."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table


@cli.command()
@click.option("--copy-threshold", type=float, help="Shingle Jaccard at or above which two texts are copies "
              "(default: the configured [matching] copy_jaccard).")
@click.option("--event-threshold", type=float, help="Similarity at or above which an article joins an event, "
              "for every script (default: the configured [matching] event_similarity and event_similarity_cjk).")
@click.option("--dry-run", is_flag=True, help="Only print what would merge and split; change nothing.")
@json_option
def recluster(copy_threshold: float | None, event_threshold: float | None, dry_run: bool, as_json: bool) -> None:
    """Rebuild copy and event clusters from the stored signatures, clean texts and term vectors
    (no raw document is re-read), honouring every manual merge, split and detach.

    Cluster ids survive where a cluster survives; the rest is recorded as merges and splits in
    the cluster history. To keep the new thresholds for later ingests, set them in the
    [matching] section of archive.toml.

    \b
    Example:
      archive recluster --copy-threshold 0.5 --event-threshold 0.3 --dry-run
    """
    archive = open_archive()
    progress = Progress(TextColumn("[bold]recluster[/]"), BarColumn(bar_width=None), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True,
                        disable=as_json or not console.is_terminal)
    with progress:
        task = progress.add_task("recluster", total=None)
        result = archive.recluster(copy_threshold, event_threshold, dry_run=dry_run,
                                   progress=lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        print_json(result)
        return
    verb = "would" if dry_run else "did"
    console.print(f"copy threshold {result['copy_threshold']}, event threshold {result['event_threshold']}: "
                  f"{result['copy_clusters']} copy and {result['event_clusters']} event clusters; "
                  f"{result['moved_articles']} article placement(s) {verb} change", highlight=False)
    if result["merges"]:
        print_table(result["merges"], [("kind", "kind"), ("cluster", "cluster"), ("into", "merged into")],
                    title=f"Clusters that {verb} merge into another")
    if result["splits"]:
        print_table(result["splits"], [("kind", "kind"), ("cluster", "cluster"), ("into", "now spread over")],
                    title=f"Clusters that {verb} split")
    if result["created"]:
        print_table(result["created"], [("kind", "kind"), ("articles", "articles")], title=f"New clusters ({verb})")
    if dry_run and (result["merges"] or result["splits"] or result["created"] or result["changed"]):
        console.print("dry run: nothing was changed; run again without --dry-run to apply")
    elif not (result["merges"] or result["splits"] or result["created"] or result["changed"]):
        console.print("no change: the clusters already match these thresholds and decisions")
