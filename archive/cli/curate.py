"""`archive merge`, `archive split`, `archive detach`, `archive decisions`: curation that lasts."""

from __future__ import annotations

import click

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, csv_option, json_option, print_csv, print_json, print_table


def actor_options(f):
    f = click.option("--note", help="Why: kept with the decision and in the cluster history.")(f)
    return click.option("--by", help="Who decided (default: the OS user).")(f)


def _report(result: dict, as_json: bool, message: str) -> None:
    if as_json:
        print_json(result)
    else:
        console.print(message, highlight=False)


@cli.command()
@click.argument("keep", type=int)
@click.argument("other", type=int)
@actor_options
@json_option
def merge(keep: int, other: int, by: str | None, note: str | None, as_json: bool) -> None:
    """Merge cluster OTHER into cluster KEEP (both copy or both event clusters).

    KEEP keeps its id; OTHER is marked merged into it. Merging copy clusters also puts their
    articles in KEEP's event. Recorded as must-link decisions that later ingests and
    `archive recluster` respect.

    \b
    Example:
      archive merge 12 40 --note "same press release, reworded headline"
    """
    r = open_archive().merge(keep, other, by=by, note=note)
    _report(r, as_json, f"merged {r['kind']} cluster {r['merged']} into {r['kept']}: "
                        f"{r['moved']} article(s) moved, {r['size']} now")


@cli.command()
@click.argument("cluster_id", type=int)
@click.argument("articles", type=int, nargs=-1, required=True)
@actor_options
@json_option
def split(cluster_id: int, articles: tuple[int, ...], by: str | None, note: str | None, as_json: bool) -> None:
    """Move ARTICLES out of CLUSTER_ID into a new cluster of the same kind, together.

    Splitting an event moves each named article with its whole copy cluster. Recorded as
    cannot-link decisions (moved against staying) and must-link ones (among the moved, and
    among those staying).

    \b
    Example:
      archive split 7 31 32 --note "two different floods"
    """
    r = open_archive().split(cluster_id, articles, by=by, note=note)
    _report(r, as_json, f"split {r['kind']} cluster {r['cluster']}: article(s) "
                        f"{', '.join(map(str, r['moved']))} now in new cluster {r['new_cluster']}")


@cli.command()
@click.argument("article_id", type=int)
@click.option("--level", type=click.Choice(["copy", "event"]), default="copy", show_default=True,
              help="Leave the copy cluster, or the event (with any copies of it).")
@actor_options
@json_option
def detach(article_id: int, level: str, by: str | None, note: str | None, as_json: bool) -> None:
    """Take ARTICLE_ID out of its copy cluster (or, with --level event, out of its event).

    \b
    Example:
      archive detach 31 --note "an update, not a reprint"
    """
    r = open_archive().detach(article_id, level=level, by=by, note=note)
    _report(r, as_json, f"article {article_id} detached from {r['kind']} cluster {r['cluster']}: "
                        f"now in cluster {r['new_cluster']}")


DECISION_COLUMNS = [("id", "id"), ("at", "at"), ("actor", "by"), ("action", "action"), ("level", "level"),
                    ("link", "link"), ("article_a", "article"), ("article_b", "article"), ("note", "note")]


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many.")
@json_option
@csv_option
def decisions(limit: int, as_json: bool, as_csv: bool) -> None:
    """List manual decisions (merge, split, detach), newest first: who, when, why.

    \b
    Example:
      archive decisions --limit 10
    """
    archive = open_archive()
    archive.require_schema()
    rows = archive.decisions(limit)
    if as_json:
        print_json(rows)
    elif as_csv:
        print_csv(rows, [key for key, _ in DECISION_COLUMNS])
    else:
        print_table(rows, DECISION_COLUMNS, title="Manual decisions")
