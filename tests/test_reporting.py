"""SQL reporting on a real archive filled by real ingest: the views, `archive sql`, `archive report`.

One archive per database for the whole module (these tests only read); both are filled the
same way, so every view must give the same rows on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.reporting_helpers import arc, filled, invoke, invoke_json  # noqa: F401 (fixtures)

VIEWS = ("report_articles", "report_clusters", "report_copies", "report_sources", "report_days")


def view_rows(url: str, view: str) -> list[dict]:
    return invoke_json(url, "sql", f"SELECT * FROM {view}", "--format", "json")


def test_every_view_gives_the_same_rows_on_sqlite_and_postgresql(filled):
    if "postgresql" not in filled:
        pytest.skip("PostgreSQL not reachable")
    for view in VIEWS:
        # fetched_at is when each test ingested the corpus: the one column that truly differs.
        lite = [{k: v for k, v in r.items() if k != "fetched_at"} for r in view_rows(filled["sqlite"].url, view)]
        pg = [{k: v for k, v in r.items() if k != "fetched_at"} for r in view_rows(filled["postgresql"].url, view)]
        assert lite, view
        assert sorted(lite, key=repr) == sorted(pg, key=repr), view


def test_copies_view_names_each_original_and_the_delay(arc):
    rows = view_rows(arc.url, "report_copies")
    urls = {a["article_id"]: a["url"] for a in view_rows(arc.url, "report_articles")}
    got = {urls[r["article_id"]]: (urls[r["original_id"]], r["delay_seconds"]) for r in rows}
    assert got == {url: tuple(v) for url, v in arc.truth["copies"].items()}
    assert all(r["similarity"] >= 0.8 for r in rows)


def test_sources_view_tells_originals_from_republishers(arc):
    rows = {r["source"]: r for r in view_rows(arc.url, "report_sources")}
    farm, alpha, mirror = rows["farm.example"], rows["alpha.example"], rows["mirror.example"]
    assert (farm["articles"], farm["copies"], farm["originals"], farm["copy_percent"]) == (3, 3, 0, 100)
    assert farm["median_delay_seconds"] == 7 * 3600  # delays 3h, 7h, 26h
    assert (alpha["originals"], alpha["copies"], alpha["copied_elsewhere"], alpha["copy_percent"]) == (3, 0, 4, 0)
    assert alpha["median_delay_seconds"] is None
    assert mirror["median_delay_seconds"] == 5 * 3600


def test_clusters_and_days_views(arc):
    clusters = view_rows(arc.url, "report_clusters")
    events = sorted((c for c in clusters if c["kind"] == "event"), key=lambda c: c["first_seen"])
    assert [e["size"] for e in events] == [4, 3, 3, 2]
    assert events[0]["sources"] == "alpha.example, beta.example, farm.example, mirror.example"
    assert events[0]["copies"] == 2 and events[0]["first_seen"] == "2025-03-01 08:00:00"
    assert events[0]["last_seen"] == "2025-03-01 13:00:00"
    days = {d["day"]: d for d in view_rows(arc.url, "report_days")}
    assert days["2025-03-01"] == {"day": "2025-03-01", "articles": 4, "copies": 2, "new_copy_clusters": 2,
                                  "new_events": 1}
    assert days["2025-03-21"]["copies"] == 1  # the farm copy 26 hours after its original
    assert sum(d["articles"] for d in days.values()) == 12


@pytest.mark.parametrize("statement", [
    "INSERT INTO sources (name, kind, created_at) VALUES ('intruder', 'file', '2025-01-01')",
    "UPDATE articles SET title = 'changed'",
    "DELETE FROM band_keys",
    "DROP TABLE cluster_members",
    "DROP VIEW report_sources",
    "WITH gone AS (SELECT 1) DELETE FROM articles",
    "COMMIT; DELETE FROM band_keys",
])
def test_sql_refuses_every_write_and_changes_nothing(arc, statement):
    count = "SELECT (SELECT COUNT(*) FROM articles) AS a, (SELECT COUNT(*) FROM band_keys) AS b, " \
            "(SELECT COUNT(*) FROM sources) AS s, (SELECT COUNT(*) FROM cluster_members) AS m, " \
            "(SELECT COUNT(*) FROM report_sources) AS v, (SELECT MIN(title) FROM articles) AS t"
    before = invoke_json(arc.url, "sql", count, "--format", "json")
    out = invoke(arc.url, "sql", statement, code=2)
    assert out.startswith("error: query refused") and out.count("\n") == 1
    assert invoke_json(arc.url, "sql", count, "--format", "json") == before


def test_sql_refuses_a_write_hidden_in_a_postgresql_cte(filled):
    if "postgresql" not in filled:
        pytest.skip("PostgreSQL not reachable")
    url = filled["postgresql"].url
    out = invoke(url, "sql", "WITH gone AS (DELETE FROM band_keys RETURNING 1) SELECT COUNT(*) FROM gone", code=2)
    assert "read-only transaction" in out
    for escape in ("SET TRANSACTION READ WRITE",
                   "DO $$ BEGIN SET TRANSACTION READ WRITE; DELETE FROM band_keys; END $$",
                   "COMMIT; SET default_transaction_read_only = off; DELETE FROM band_keys"):
        assert invoke(url, "sql", escape, code=2).startswith("error: query refused")
    assert invoke_json(url, "sql", "SELECT COUNT(*) AS n FROM band_keys", "--format", "json")[0]["n"] > 0


def test_sql_formats(arc):
    query = "SELECT source, copy_percent FROM report_sources WHERE source LIKE '%.example' ORDER BY source"
    rows = invoke_json(arc.url, "sql", query, "--format", "json")
    assert [r["source"] for r in rows] == ["alpha.example", "beta.example", "farm.example", "mirror.example"]
    parsed = list(csv.DictReader(io.StringIO(invoke(arc.url, "sql", query, "--format", "csv"))))
    assert parsed == [{k: str(v) for k, v in r.items()} for r in rows]
    assert "farm.example" in invoke(arc.url, "sql", query)
    assert invoke_json(arc.url, "sql", query, "--json") == rows  # --json, as every other command spells it
    assert "two formats" in invoke(arc.url, "sql", query, "--json", "--format", "csv", code=2)


def test_reports(arc):
    listing = invoke(arc.url, "report")
    for name in ("top_events", "republishers", "most_copied", "daily"):
        assert name in listing
    top = invoke_json(arc.url, "report", "top_events", "--since", "2025-01-01", "--format", "json")
    assert [r["size"] for r in top] == [4, 3, 3, 2]
    assert invoke_json(arc.url, "report", "top_events", "--since", "2025-01-01", "--json") == top
    march = invoke_json(arc.url, "report", "top_events", "--since", "2025-03-05", "--until", "2025-03-15",
                        "--format", "json")
    assert [r["size"] for r in march] == [3]
    assert invoke_json(arc.url, "report", "top_events", "--format", "json") == []  # default: the last week
    farms = invoke_json(arc.url, "report", "republishers", "--since", "2025-01-01", "--format", "json")
    assert farms[0]["source"] in ("farm.example", "mirror.example") and farms[0]["copy_percent"] == 100
    copied = invoke_json(arc.url, "report", "most_copied", "--since", "2025-01-01", "--format", "json")
    assert copied[0] == {"source": "alpha.example", "copies_elsewhere": 4, "copying_sources": 2,
                         "originals_copied": 3, "fastest_delay_seconds": 3 * 3600, "slowest_delay_seconds": 26 * 3600}
    daily = invoke_json(arc.url, "report", "daily", "--since", "2025-03-01", "--until", "2025-03-10",
                        "--limit", "1", "--format", "json")
    assert daily == [{"day": "2025-03-01", "articles": 4, "copies": 2, "new_copy_clusters": 2, "new_events": 1}]
    assert "alpha.example" in invoke(arc.url, "report", "most_copied", "--since", "2025-01-01", "--format", "csv")


def test_report_errors_are_one_line(arc):
    assert invoke(arc.url, "report", "nope", code=2).startswith("error: no report named 'nope'")
    out = invoke(arc.url, "report", "daily", "--since", "last tuesday", code=2)
    assert out.count("\n") == 1 and "'last tuesday' is not a date" in out
    assert "is after --until" in invoke(arc.url, "report", "daily", "--since", "2025-03-02", "--until",
                                        "2025-03-01", code=2)


DOC = Path(__file__).resolve().parents[1] / "docs" / "reporting.md"


def test_every_view_column_is_documented(arc):
    doc = DOC.read_text("utf-8")
    for view in VIEWS:
        section = doc.split(f"## `{view}`", 1)[1].split("\n## ", 1)[0]
        for column in view_rows(arc.url, view)[0]:
            assert f"`{column}`" in section, (view, column)


def test_documented_example_queries_run(arc):
    block = DOC.read_text("utf-8").split("## Example queries", 1)[1].split("```sql", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in block.split(";") if s.strip()]
    assert len(statements) == 5
    for statement in statements:
        sql = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
        assert isinstance(invoke_json(arc.url, "sql", sql, "--format", "json"), list)
