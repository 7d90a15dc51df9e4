"""`archive compare`, `archive similar` and `archive export` through the real CLI, on an archive
filled by real ingest, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import threading


from tests.conftest import SEEDS
from tests.reporting_helpers import arc, filled, invoke, invoke_json  # noqa: F401 (fixtures)

ALPHA0, BETA0 = "https://alpha.example/event0/story", "https://beta.example/event0/story"
FARM0 = "https://farm.example/copy/0"


def ids(url: str) -> dict[str, int]:
    rows = invoke_json(url, "sql", "SELECT url, article_id FROM report_articles", "--format", "json")
    return {r["url"]: r["article_id"] for r in rows}


def counts(url: str) -> dict:
    query = ("SELECT (SELECT COUNT(*) FROM articles) AS a, (SELECT COUNT(*) FROM raw_documents) AS r, "
             "(SELECT COUNT(*) FROM ingest_runs) AS i, (SELECT COUNT(*) FROM band_keys) AS b, "
             "(SELECT COUNT(*) FROM sources) AS s, (SELECT COUNT(*) FROM cluster_members) AS m")
    return invoke_json(url, "sql", query, "--format", "json")[0]


def text_of(arc, url: str) -> str:
    return next(r["text"] for r in arc.truth["records"] if r["url"] == url)


def test_compare_a_copy_shows_why(arc):
    n = ids(arc.url)
    r = invoke_json(arc.url, "compare", str(n[ALPHA0]), str(n[FARM0]), "--json")
    assert r["copy"] and r["same_copy_cluster"] and r["same_event_cluster"]
    assert r["jaccard"] >= 0.6 and r["estimated_jaccard"] >= 0.6
    assert r["containment_a_in_b"] == 1.0 and r["shared_share_a"] > 0.95
    assert r["passages_a"][0]["text"] == r["a"]["text"][r["passages_a"][0]["start"]:r["passages_a"][0]["end"]]
    table = invoke(arc.url, "compare", str(n[ALPHA0]), str(n[FARM0]))
    assert "exact shingle Jaccard" in table and "copies?" in table and "100% shared" in table
    assert "dateline days" in table and r["days"] == [[], []] and not r["days_conflict"]


def test_compare_two_write_ups_of_one_event(arc):
    n = ids(arc.url)
    r = invoke_json(arc.url, "compare", str(n[ALPHA0]), str(n[BETA0]), "--json")
    assert not r["copy"] and not r["same_copy_cluster"] and r["same_event_cluster"]
    assert r["jaccard"] < 0.2 and r["event_cosine"] >= r["thresholds"]["event_similarity"]
    names = {w.lower() for w in r["a"]["title"].split()[::2][:2]}  # "Name and Name: ..."
    assert {n.rstrip(":") for n in names} <= set(r["shared_terms"])
    assert r["shared_share_a"] < 0.2
    assert invoke(arc.url, "compare", str(n[ALPHA0]), "99999", code=2).startswith("error: no article with id 99999")


def test_similar_text_finds_the_original_and_stores_nothing(arc):
    before = counts(arc.url)
    farm_text = text_of(arc, FARM0)
    r = invoke_json(arc.url, "similar", "--text", "Breaking\n\n" + farm_text, "--top", "3", "--json")
    n = ids(arc.url)
    top = r["results"][0]
    assert top["verdict"] == "copy" and top["id"] in {n[ALPHA0], n[FARM0], n["https://mirror.example/copy/0"]}
    assert {x["copy_cluster"] for x in r["results"] if x["verdict"] == "copy"} == {top["copy_cluster"]}
    assert len(r["results"]) == 3
    table = invoke(arc.url, "similar", "--text", farm_text)
    assert "Nearest archived articles" in table and "copy" in table
    assert counts(arc.url) == before


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the CLI runner captures stderr: keep it for the CLI
        pass


def test_similar_file_and_url(arc, tmp_path):
    seed = sorted(SEEDS.iterdir())[0]
    rows = list(csv.DictReader(io.StringIO(invoke(arc.url, "similar", str(seed), "--csv"))))
    assert rows[0]["verdict"] == "copy" and rows[0]["jaccard"] == "1.000"

    page = tmp_path / "page.html"
    body = "".join(f"<p>{p}</p>" for p in text_of(arc, BETA0).split("\n\n"))
    page.write_text(f"<html><head><title>Reprint</title></head><body><article><h1>Reprint</h1>{body}"
                    "</article></body></html>", encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        before = counts(arc.url)
        r = invoke_json(arc.url, "similar", "--url", f"http://127.0.0.1:{server.server_port}/page.html", "--json")
        assert r["results"][0]["id"] == ids(arc.url)[BETA0] and r["results"][0]["verdict"] == "copy"
        assert counts(arc.url) == before
        out = invoke(arc.url, "similar", "--url", f"http://127.0.0.1:{server.server_port}/missing.html", code=2)
        assert out.startswith("error: could not fetch") and out.count("\n") == 1
    finally:
        server.shutdown()
        server.server_close()
    assert "give exactly one of FILE, --text or --url" in invoke(arc.url, "similar", code=2)


def test_export_articles_and_clusters(arc, tmp_path):
    lines = invoke(arc.url, "export", "--what", "articles").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 12 and all(r["text"] for r in records)
    farm = next(r for r in records if r["url"] == FARM0)
    assert farm["role"] == "copy" and farm["original_id"] == ids(arc.url)[ALPHA0]

    march = invoke(arc.url, "export", "--since", "2025-03-05", "--until", "2025-03-15", "--no-text",
                   "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(march)))
    assert len(rows) == 3 and "text" not in rows[0] and {r["source"] for r in rows} == {
        "alpha.example", "beta.example", "farm.example"}

    out = tmp_path / "clusters.jsonl"
    invoke(arc.url, "export", "--what", "clusters", "-o", str(out))
    clusters = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(clusters) == 12
    biggest = max(clusters, key=lambda c: (c["kind"] == "event", c["size"]))
    assert biggest["size"] == 4 and len(biggest["articles"]) == 4
    assert biggest["sources"] == ["alpha.example", "beta.example", "farm.example", "mirror.example"]
    empty = invoke(arc.url, "export", "--since", "2030-01-01", "--format", "csv")
    assert empty.splitlines() == [",".join(json.loads(lines[0]).keys())]
