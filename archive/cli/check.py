"""`archive check [--repair]`: verify the archive's invariants, mend what can be derived again."""

from __future__ import annotations

import sys

import click

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table


@cli.command()
@click.option("--repair", is_flag=True, help="Mend what can be derived again (band keys, counts, placements).")
@json_option
def check(repair: bool, as_json: bool) -> None:
    """Verify the archive's invariants; exit status 1 and a list when something is wrong.

    Every article has its band keys and is in exactly one copy and one event cluster; every
    cluster has members, a representative among them and a size that counts them; every raw
    document is referenced. --repair mends what can be derived again and checks again.

    \b
    Example:
      archive check && archive check --repair --json
    """
    archive = open_archive()
    with console.status("checking the archive" + (" and repairing it" if repair else ""), spinner="dots"):
        report = archive.check(repair=repair)
    if as_json:
        print_json(report.as_dict())
    else:
        if report.repaired:
            print_table([{"rule": k, "fixed": v} for k, v in report.repaired.items()],
                        [("rule", "rule"), ("fixed", "repaired")], title="Repaired")
        if report.ok:
            console.print(f"[green]ok[/]: no violation in {archive.url}")
        else:
            print_table([{**v.as_dict(), "examples": v.examples[:10], "repairable": "yes" if v.repairable else "no"}
                         for v in report.violations],
                        [("rule", "rule"), ("count", "count"), ("message", "what is wrong"),
                         ("examples", "ids (first 10)"), ("repairable", "--repair mends it")],
                        title=f"Violations in {archive.url}")
    if not report.ok:
        sys.exit(1)
