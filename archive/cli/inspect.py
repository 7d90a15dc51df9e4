"""`archive clusters`, `archive cluster ID`, `archive article ID`: read the archive."""

from __future__ import annotations

import click

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table


@cli.command()
@click.option("--kind", type=click.Choice(["copy", "event"]), help="Only clusters of this level.")
@click.option("--min-size", type=click.IntRange(min=1), default=1, show_default=True, help="Smallest size shown.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many clusters.")
@json_option
def clusters(kind: str | None, min_size: int, limit: int | None, as_json: bool) -> None:
    """List clusters, largest first.

    \b
    Example:
      archive clusters --kind event --min-size 2 --json
    """
    archive = open_archive()
    archive.require_schema()
    rows = archive.clusters(kind=kind, min_size=min_size, limit=limit)
    if as_json:
        print_json(rows)
        return
    print_table(rows, [("id", "cluster"), ("kind", "kind"), ("size", "size"), ("first_seen", "first seen"),
                       ("title", "representative title"), ("sources", "sources")],
                title=f"{kind.capitalize() + ' clusters' if kind else 'Clusters'} in {archive.url}")


@cli.command()
@click.argument("cluster_id", type=int)
@json_option
def cluster(cluster_id: int, as_json: bool) -> None:
    """Show one cluster: its members with similarity and role (original or copy).

    \b
    Example:
      archive cluster 3
    """
    archive = open_archive()
    archive.require_schema()
    data = archive.cluster(cluster_id)
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{data['kind']} cluster {data['id']}[/] · {data['size']} article(s) · "
                  f"first seen {data['first_seen']}"
                  + (f" · original: {data['original_reason']}" if data["kind"] == "copy" else ""))
    columns = [("id", "article"), ("role", "role"), ("similarity", "similarity"), ("source", "source"),
               ("published_at", "published"), ("fetched_at", "fetched"), ("title", "title")]
    if data["kind"] == "event":
        columns.insert(1, ("copy_cluster", "copy cluster"))
    print_table(data["articles"], columns)


@cli.command()
@click.argument("article_id", type=int)
@click.option("--raw", is_flag=True, help="Print the raw document's bytes exactly as received.")
@json_option
def article(article_id: int, raw: bool, as_json: bool) -> None:
    """Show one article: metadata, clusters, clean text and the boilerplate removed from it.

    \b
    Example:
      archive article 1 --json
    """
    archive = open_archive()
    archive.require_schema()
    if raw:
        click.get_binary_stream("stdout").write(archive.raw_bytes(article_id))
        return
    data = archive.article(article_id, with_raw=True)
    if as_json:
        print_json(data)
        return
    for key in ("id", "title", "byline", "source", "attribution", "url", "canonical_url", "published_at",
                "fetched_at", "language", "copy_cluster", "event_cluster"):
        console.print(f"[bold]{key}[/]: {data[key] if data[key] is not None else ''}", highlight=False)
    console.rule("clean text")
    console.print(data["clean_text"], highlight=False)
    if data["removed"]:
        console.rule(f"removed boilerplate ({len(data['removed'])} pieces)")
        for item in data["removed"][:40]:
            console.print(f"[dim]{item['rule']}[/]: {item['text'][:120]}", highlight=False)
