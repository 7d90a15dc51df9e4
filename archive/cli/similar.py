"""`archive similar`: the nearest archived articles to a file, a text or a URL; stores nothing."""

from __future__ import annotations

import click

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, csv_option, json_option, print_csv, print_json, print_table

COLUMNS = [("id", "article"), ("verdict", "verdict"), ("jaccard", "Jaccard"), ("containment", "containment"),
           ("event_cosine", "event cosine"), ("copy_cluster", "copy cluster"), ("event_cluster", "event"),
           ("source", "source"), ("published_at", "published"), ("title", "title")]


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--text", help="Compare this text instead of a file.")
@click.option("--url", help="Fetch this web page and compare it.")
@click.option("--top", type=click.IntRange(min=1, max=1000), default=10, show_default=True, help="How many to show.")
@json_option
@csv_option
def similar(file: str | None, text: str | None, url: str | None, top: int, as_json: bool, as_csv: bool) -> None:
    """The archived articles nearest to FILE, --text or --url, with their clusters and whether
    each is a copy, the same event or only related. Nothing is stored.

    \b
    Example:
      archive similar draft.txt --top 5
      archive similar --text "Flooding closed the harbour bridge on Monday..."
    """
    r = open_archive().similar(path=file, text=text, url=url, top=top)
    if as_json:
        print_json(r)
    elif as_csv:
        print_csv(r["results"], [key for key, _ in COLUMNS])
    else:
        q = r["query"]
        console.print(f"[bold]{q['title'] or q['location']}[/] · {q['language']} · {q['shingles']} shingles · "
                      f"{q['candidates']} candidate(s) from the index", highlight=False)
        print_table(r["results"], COLUMNS, title="Nearest archived articles")
