"""`archive compare A B`: why two articles matched, or why not, with the shared passages highlighted."""

from __future__ import annotations

import click
from rich.text import Text

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table

SHOWN_CHARS = 3000


@cli.command()
@click.argument("a", type=int)
@click.argument("b", type=int)
@click.option("--full", is_flag=True, help=f"Print the whole texts (default: the first {SHOWN_CHARS} characters).")
@json_option
def compare(a: int, b: int, full: bool, as_json: bool) -> None:
    """Compare two archived articles: estimated (MinHash) and exact shingle Jaccard, containment
    both ways, event-term cosine, the verdicts under the current thresholds, and the passages
    they share, highlighted in both texts.

    \b
    Example:
      archive compare 12 40
    """
    r = open_archive().compare(a, b)
    if as_json:
        print_json(r)
        return
    t = r["thresholds"]
    rows = [
        {"measure": "estimated Jaccard (MinHash)", "value": r["estimated_jaccard"], "rule": ""},
        {"measure": "exact shingle Jaccard", "value": r["jaccard"], "rule": f"copy at ≥ {t['copy_jaccard']}"},
        {"measure": f"containment of {a} in {b}", "value": r["containment_a_in_b"],
         "rule": f"copy at ≥ {t['copy_containment']} (shorter text)"},
        {"measure": f"containment of {b} in {a}", "value": r["containment_b_in_a"], "rule": ""},
        {"measure": "event-term cosine", "value": r["event_cosine"],
         "rule": f"same event at ≥ {t['event_similarity']} (CJK ≥ {t['event_similarity_cjk']})"},
        {"measure": "names", "value": " / ".join(", ".join(n) or "-" for n in r["names"]),
         "rule": "other events of one kind share none" + (": conflict" if r["names_conflict"] else "")},
        {"measure": "dateline days", "value": " / ".join(", ".join(d) or "-" for d in r["days"]),
         "rule": "other events name days apart" + (": conflict" if r["days_conflict"] else "")},
        {"measure": "match results", "value": " / ".join(", ".join(x) or ("preview" if p else "-")
                                                        for x, p in zip(r["results"], r["preview"])),
         "rule": "other matches state other results; a preview is not its result"
                 + (": conflict" if r["results_conflict"] else "")},
        {"measure": "body carries none of its headline", "value": " / ".join(_yes(x) for x in r["stray_body"]),
         "rule": "both, under other headlines: no copy" + (": barred" if r["headline_bars_copy"] else "")},
        {"measure": "copies?", "value": _yes(r["copy"]), "rule": ""},
        {"measure": "same event by terms?", "value": _yes(r["same_event_terms"]), "rule": ""},
        {"measure": "same copy cluster / event", "value": f"{_yes(r['same_copy_cluster'])} / "
                                                          f"{_yes(r['same_event_cluster'])}", "rule": ""},
    ]
    print_table(rows, [("measure", "measure"), ("value", "value"), ("rule", "rule")],
                title=f"Article {a} vs article {b}")
    if r["shared_terms"]:
        console.print("[bold]shared event terms[/]: " + ", ".join(r["shared_terms"]), highlight=False)
    for key, other in (("a", "b"), ("b", "a")):
        side = r[key]
        passages = r[f"passages_{key}"]
        console.rule(f"article {side['id']} · {side['source'] or ''} · {side['title'] or ''} · "
                     f"{round(100 * r[f'shared_share_{key}'])}% shared with {r[other]['id']}")
        console.print(_highlighted(side["text"], passages, full))


def _highlighted(text: str, passages: list[dict], full: bool) -> Text:
    shown = text if full else text[:SHOWN_CHARS]
    out = Text(shown)
    for p in passages:
        if p["start"] < len(shown):
            out.stylize("bold black on yellow", p["start"], min(p["end"], len(shown)))
    if len(shown) < len(text):
        out.append(f"\n… {len(text) - len(shown)} more characters (--full shows them)", style="dim")
    return out


def _yes(value: bool) -> str:
    return "yes" if value else "no"
