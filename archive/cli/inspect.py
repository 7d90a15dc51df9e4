"""`archive clusters`, `archive cluster ID`, `archive article ID`: read the archive."""

from __future__ import annotations

import click

from archive.cli import cli
from archive.cli.context import open_archive
from archive import overview
from archive.cli.output import console, csv_option, json_option, print_csv, print_json, print_table
from archive.cli.params import since_option, until_option


CLUSTER_COLUMNS = [("id", "cluster"), ("kind", "kind"), ("size", "size"), ("first_seen", "first seen"),
                   ("last_seen", "last seen"), ("title", "representative title"), ("sources", "sources")]


@cli.command()
@click.option("--kind", type=click.Choice(["copy", "event"]), help="Only clusters of this level.")
@since_option
@until_option
@click.option("--source", help="Only clusters with an article from this source (exact name).")
@click.option("--min-size", type=click.IntRange(min=1), default=1, show_default=True, help="Smallest size shown.")
@click.option("--title", help="Only clusters whose representative title contains this text (any case).")
@click.option("--sort", type=click.Choice(overview.SORTS), default="size", show_default=True,
              help="Largest first, or most recently active first.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many clusters.")
@json_option
@csv_option
def clusters(kind, since, until, source, min_size, title, sort, limit, as_json, as_csv) -> None:
    """List clusters, largest (or most recent) first, filtered by time, source, size or title.

    A cluster is shown when it was active between --since and --until (its articles' publication
    times, else their fetch times).

    \b
    Example:
      archive clusters --kind event --since 7d --source example.com --min-size 2 --sort recent --json
    """
    archive = open_archive()
    archive.require_schema()
    rows = archive.clusters(where=overview.ClusterFilter(kind=kind, since=since, until=until, source=source,
                                                         min_size=min_size, title=title, sort=sort, limit=limit))
    if as_json:
        print_json(rows)
    elif as_csv:
        print_csv(rows, [key for key, _ in CLUSTER_COLUMNS])
    else:
        print_table(rows, CLUSTER_COLUMNS,
                    title=f"{kind.capitalize() + ' clusters' if kind else 'Clusters'} in {archive.url}")


@cli.command()
@click.argument("cluster_id", type=int)
@json_option
def cluster(cluster_id: int, as_json: bool) -> None:
    """Show one cluster as a timeline: each article with its source, time, role, similarity to the
    original it matched, and its delay after the original of its copy cluster.

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
                  f"{data['first_seen']} → {data['last_seen']}"
                  + (f" · original: {data['original_reason']}" if data["kind"] == "copy" else ""),
                  highlight=False)
    if data["status"] != "active":
        console.print(f"merged into cluster {data['merged_into']}: `archive cluster {data['merged_into']}` shows it")
    rows = [{**a, "time": a["published_at"] or a["fetched_at"], "after": overview.format_delay(a["delay_seconds"]),
             "role": _role(a)} for a in data["articles"]]
    columns = [("time", "time"), ("after", "after original"), ("id", "article"), ("role", "role"),
               ("similarity", "similarity"), ("source", "source"), ("title", "title")]
    if data["kind"] == "event":
        columns.insert(3, ("copy_cluster", "copy cluster"))
    print_table(rows, columns)


def _role(article: dict) -> str:
    if article["role"] != "member":
        return article["role"]
    return "original" if article["original_id"] == article["id"] else f"copy of {article['original_id']}"


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
