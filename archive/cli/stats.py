"""`archive stats`: what the archive holds, at a glance."""

from __future__ import annotations

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table


@cli.command()
@json_option
def stats(as_json: bool) -> None:
    """Articles, sources, copy and event clusters, the share of articles that are copies, the
    largest clusters and the last ingest run.

    \b
    Example:
      archive stats --json
    """
    archive = open_archive()
    archive.require_schema()
    data = archive.stats()
    if as_json:
        print_json(data)
        return
    print_table([{"measure": k.replace("_", " "), "value": data[k]} for k in
                 ("articles", "sources", "copy_clusters", "event_clusters", "copies", "copy_share",
                  "rejected_inputs")],
                [("measure", "measure"), ("value", "value")], title=f"Archive {archive.url}")
    for key, title in (("largest_events", "Largest events"), ("largest_copy_clusters", "Largest copy clusters")):
        if data[key]:
            print_table(data[key], [("id", "cluster"), ("size", "size"), ("title", "representative title")],
                        title=title)
    run = data["last_run"]
    if run:
        console.print(f"last run {run['id']} ({run['kind']}, {run['status']}): started {run['started_at']}, "
                      f"read {run['read']}, new {run['new']}, copies {run['copies']}, "
                      f"duplicates {run['duplicates']}, rejected {run['rejected']}", highlight=False)
