"""`archive calibrate LABELS.jsonl`: thresholds chosen on the user's own labelled pairs."""

from __future__ import annotations

import click
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table


@cli.command()
@click.argument("labels", type=click.Path(dir_okay=False))
@click.option("--target-precision", type=click.FloatRange(0, 1),
              help="Choose the lowest threshold reaching this precision (default: the best F1).")
@click.option("--dry-run", is_flag=True, help="Report only; leave the configuration file as it is.")
@json_option
def calibrate(labels: str, target_precision: float | None, dry_run: bool, as_json: bool) -> None:
    """Report precision and recall of the copy and event thresholds across their range on LABELS,
    a JSONL file of labelled pairs of archived articles, and write the chosen thresholds to the
    [matching] table of the configuration file (ARCHIVE_CONFIG, else ./archive.toml).

    Each line is {"a": ID or URL, "b": ID or URL, "label": L} with L one of COPY, SAME_EVENT,
    RELATED, UNRELATED (or 1 / 0: same event or not), the format of ../shared/eval pairs.

    \b
    Example:
      archive calibrate my-pairs.jsonl --target-precision 0.95
    """
    archive = open_archive()
    progress = Progress(SpinnerColumn(), TextColumn("[bold]calibrate[/]"), TimeElapsedColumn(), console=console,
                        transient=True, disable=as_json or not console.is_terminal)
    with progress:
        progress.add_task("calibrate", total=None)
        result = archive.calibrate(labels, target_precision, write=not dry_run)
    if as_json:
        print_json(result)
        return
    for sweep in result["sweeps"]:
        chosen = sweep["chosen"]
        title = (f"{sweep['setting']}: {sweep['pairs']} pairs, {sweep['positives']} positive; "
                 f"chosen {chosen if chosen is not None else '-'} ({sweep['reason']})")
        if sweep["interval"]:
            span = sweep["interval"]
            title += (f"; at {chosen}, 90% intervals over draws of the pairs: precision "
                      f"{span['precision'][0]:.2f}-{span['precision'][1]:.2f}, recall "
                      f"{span['recall'][0]:.2f}-{span['recall'][1]:.2f}, F1 {span['f1'][0]:.2f}-{span['f1'][1]:.2f}")
        rows = [{**r, "mark": "◀" if r["threshold"] == chosen else ""} for r in sweep["rows"]]
        print_table(rows, [("threshold", "threshold"), ("precision", "precision"), ("recall", "recall"),
                           ("f1", "F1"), ("placed_together", "placed together"), ("mark", "")], title=title)
    if result["missing"]:
        console.print(f"{len(result['missing'])} pair(s) name an article the archive does not hold "
                      f"(first on line {result['missing'][0]['line']}): left out")
    if result["written"]:
        console.print(f"wrote {result['chosen']} to [matching] in {result['config']}", highlight=False)
    else:
        console.print("nothing written" + (" (dry run)" if dry_run else ": no threshold could be chosen"))
