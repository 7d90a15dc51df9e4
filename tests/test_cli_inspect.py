"""`archive stats`, `archive clusters` with its filters and `archive cluster ID` as a timeline,
through the real CLI on an archive filled by real ingest, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

from tests.reporting_helpers import arc, filled, invoke, invoke_json  # noqa: F401 (fixtures)


def test_stats(arc):
    data = invoke_json(arc.url, "stats", "--json")
    assert (data["articles"], data["sources"], data["copies"]) == (12, 6, 4)
    assert (data["copy_clusters"], data["event_clusters"]) == (8, 4)
    assert data["copy_share"] == round(4 / 12, 4)
    assert [c["size"] for c in data["largest_events"]] == [4, 3, 3, 2]
    assert data["largest_copy_clusters"][0]["size"] == 3
    assert data["last_run"]["new"] == 6 and data["last_run"]["copies"] == 4
    table = invoke(arc.url, "stats")
    assert "event clusters" in table and "Largest events" in table and "last run" in table


def sizes(url: str, *args: str) -> list[tuple[str, int]]:
    return [(c["kind"], c["size"]) for c in invoke_json(url, "clusters", *args, "--json")]


def test_cluster_filters(arc):
    assert sizes(arc.url, "--kind", "event") == [("event", 4), ("event", 3), ("event", 3), ("event", 2)]
    assert sizes(arc.url, "--kind", "event", "--since", "2025-03-05", "--until", "2025-03-15") == [("event", 3)]
    assert sizes(arc.url, "--source", "mirror.example") == [("event", 4), ("copy", 3)]
    assert sizes(arc.url, "--min-size", "3", "--kind", "copy") == [("copy", 3)]
    recent = invoke_json(arc.url, "clusters", "--kind", "event", "--sort", "recent", "--json")
    assert [c["last_seen"] for c in recent] == sorted((c["last_seen"] for c in recent), reverse=True)
    assert sizes(arc.url, "--kind", "event", "--limit", "2") == [("event", 4), ("event", 3)]
    title = invoke_json(arc.url, "clusters", "--kind", "event", "--limit", "1", "--json")[0]["title"]
    word = title.split()[0].upper()  # any case
    titles = [c["title"] for c in invoke_json(arc.url, "clusters", "--title", word, "--json")]
    assert title in titles and len(titles) == 3  # the event, its copy cluster, the other write-up
    assert all(word.lower() in t.lower() for t in titles)
    assert sizes(arc.url, "--title", "莞港产业", "--kind", "event") == [("event", 2)]


def test_filters_are_bound_never_pasted(arc):
    hostile = "x' OR '1'='1"
    assert sizes(arc.url, "--source", hostile) == []
    assert sizes(arc.url, "--title", "%") == []  # a literal percent sign, not a wildcard
    assert sizes(arc.url, "--title", "'; DROP TABLE clusters; --") == []
    assert len(sizes(arc.url)) == 12


def test_cluster_listing_table_and_csv(arc):
    table = invoke(arc.url, "clusters", "--kind", "event")
    assert "representative title" in table and "alpha.example" in table
    rows = list(csv.DictReader(io.StringIO(invoke(arc.url, "clusters", "--kind", "copy", "--csv"))))
    assert len(rows) == 8 and rows[0]["size"] == "3"
    assert rows[0]["sources"] == "alpha.example, farm.example, mirror.example"


def test_cluster_timeline_shows_delay_after_the_original(arc):
    copy = invoke_json(arc.url, "clusters", "--kind", "copy", "--limit", "1", "--json")[0]
    shown = invoke_json(arc.url, "cluster", str(copy["id"]), "--json")
    by_url = {a["url"]: a for a in shown["articles"]}
    original = by_url["https://alpha.example/event0/story"]
    assert (original["role"], original["delay_seconds"]) == ("original", 0)
    for url, (orig_url, delay) in arc.truth["copies"].items():
        if url in by_url:
            assert by_url[url]["role"] == "copy" and by_url[url]["delay_seconds"] == delay
            assert by_url[url]["original_id"] == original["id"]
    assert [a["published_at"] for a in shown["articles"]] == sorted(a["published_at"] for a in shown["articles"])
    table = invoke(arc.url, "cluster", str(copy["id"]))
    assert "+3h 00m" in table and "+5h 00m" in table and "after original" in table

    event = invoke_json(arc.url, "clusters", "--kind", "event", "--limit", "1", "--json")[0]
    table = invoke(arc.url, "cluster", str(event["id"]))
    assert "copy of" in table and "+1h 00m" not in table  # the beta write-up is an original of its own


def test_errors_are_one_line_with_status_2(arc):
    out = invoke(arc.url, "cluster", "99999", code=2)
    assert out.startswith("error: no cluster with id 99999") and out.count("\n") == 1
    out = invoke(arc.url, "clusters", "--since", "2025-13-45", code=2)
    assert out.startswith("error: --since: '2025-13-45' is not a date") and out.count("\n") == 1
