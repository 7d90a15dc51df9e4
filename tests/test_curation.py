"""Curation that lasts: merge, split and detach through the real CLI, then a later ingest and a
`recluster` that must both leave the manual decisions as they were; `recluster --dry-run`
changes nothing; re-clustering keeps cluster ids stable. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests import corpus
from tests.reporting_helpers import fill, invoke, invoke_json


@pytest.fixture
def filled(db_url, tmp_path):
    return fill(db_url, tmp_path)


def placement(url: str) -> dict[str, tuple[int, int, str]]:
    """url -> (copy cluster, event cluster, role) for every article."""
    rows = invoke_json(url, "sql", "SELECT url, copy_cluster_id, event_cluster_id, role FROM report_articles",
                       "--format", "json")
    return {r["url"]: (r["copy_cluster_id"], r["event_cluster_id"], r["role"]) for r in rows}


def snapshot(url: str) -> list:
    return [invoke_json(url, "sql", f"SELECT * FROM {table} ORDER BY 1, 2", "--format", "json")
            for table in ("clusters", "cluster_members", "cluster_history", "decisions")]


def test_curation_survives_a_later_ingest_and_recluster(filled, tmp_path):
    url = filled.url
    before = placement(url)
    alpha0, beta0 = "https://alpha.example/event0/story", "https://beta.example/event0/story"
    farm1, alpha1 = "https://farm.example/copy/1", "https://alpha.example/event1/story"
    alpha2, beta2, farm2 = ("https://alpha.example/event2/story", "https://beta.example/event2/story",
                            "https://farm.example/copy/2")
    ids = {r["url"]: r["article_id"] for r in invoke_json(
        url, "sql", "SELECT url, article_id FROM report_articles", "--format", "json")}

    # merge: two write-ups of one event declared one text
    merged = invoke_json(url, "merge", str(before[alpha0][0]), str(before[beta0][0]), "--by", "alice",
                         "--note", "same wire story", "--json")
    assert merged == {"kept": before[alpha0][0], "merged": before[beta0][0], "kind": "copy", "moved": 1, "size": 4}
    # detach: a farm copy declared not a copy
    detached = invoke_json(url, "detach", str(ids[farm1]), "--note", "an update, not a reprint", "--json")
    assert detached["cluster"] == before[farm1][0] and detached["new_cluster"] not in before.values()
    # split: the beta write-up of event 2 declared another event
    out = invoke(url, "split", str(before[beta2][1]), str(ids[beta2]), "--by", "bob")
    assert f"split event cluster {before[beta2][1]}" in out

    curated = placement(url)
    assert curated[beta0][0] == curated[alpha0][0] and curated[beta0][2] == "copy"
    assert curated[farm1][0] != curated[alpha1][0] and curated[farm1][1] == curated[alpha1][1]
    assert curated[farm1][2] == "original"
    assert curated[beta2][1] != curated[alpha2][1] and curated[farm2][1] == curated[alpha2][1]
    retired = invoke_json(url, "cluster", str(before[beta0][0]), "--json")
    assert (retired["articles"], retired["status"], retired["merged_into"]) == ([], "merged", before[alpha0][0])
    assert f"merged into cluster {before[alpha0][0]}" in invoke(url, "cluster", str(before[beta0][0]))

    decisions = invoke_json(url, "decisions", "--json", "--limit", "200")
    by_action = {d["action"]: d for d in reversed(decisions)}
    assert (by_action["merge"]["actor"], by_action["merge"]["note"], by_action["merge"]["link"]) == \
        ("alice", "same wire story", "must-link")
    assert {d["link"] for d in decisions if d["actor"] == "bob"} == {"cannot-link", "must-link"}
    assert "same wire story" in invoke(url, "decisions", "--csv")
    assert any(d["note"] == "an update, not a reprint" and d["link"] == "cannot-link" for d in decisions)
    history = invoke_json(url, "sql", "SELECT action, actor, detail FROM cluster_history WHERE actor <> 'ingest'",
                          "--format", "json")
    assert {"action": "merge", "actor": "alice", "detail": "same wire story"} in history
    assert {h["action"] for h in history} >= {"merge", "merged", "split", "create"}

    # a later ingest adds articles and moves none
    corpus.extra_event(tmp_path / "later.jsonl")
    summary = invoke_json(url, "ingest", str(tmp_path / "later.jsonl"), "--json")
    assert (summary["new"], summary["copies"]) == (1, 1)
    after_ingest = placement(url)
    assert {u: after_ingest[u] for u in curated} == curated

    # re-clustering with the same thresholds honours every decision: nothing to change
    plan = invoke_json(url, "recluster", "--dry-run", "--json")
    assert (plan["moved_articles"], plan["merges"], plan["splits"], plan["created"]) == (0, [], [], [])
    invoke_json(url, "recluster", "--json")
    assert placement(url) == after_ingest

    # even with thresholds that would undo the split and the detach, decisions hold
    invoke_json(url, "recluster", "--event-threshold", "0.05", "--copy-threshold", "0.3", "--json")
    loose = placement(url)
    assert loose[farm1][0] != loose[alpha1][0]
    assert loose[beta2][1] != loose[alpha2][1]
    assert loose[beta0][0] == loose[alpha0][0]
    assert invoke(url, "check").startswith("ok: no violation")


def test_recluster_dry_run_changes_nothing_and_ids_stay_stable(filled):
    url = filled.url
    before, state = placement(url), snapshot(url)
    plan = invoke_json(url, "recluster", "--event-threshold", "0.95", "--dry-run", "--json")
    assert plan["dry_run"] and plan["moved_articles"] > 0 and plan["splits"]
    assert snapshot(url) == state
    table = invoke(url, "recluster", "--event-threshold", "0.95", "--dry-run")
    assert "would split" in table and "dry run: nothing was changed" in table
    assert snapshot(url) == state

    applied = invoke_json(url, "recluster", "--event-threshold", "0.95", "--json")
    assert applied["splits"] == plan["splits"]
    strict = placement(url)
    assert all(strict[u][0] == before[u][0] for u in before)  # copy clusters untouched, same ids
    assert len({e for _, e, _ in strict.values()}) > len({e for _, e, _ in before.values()})
    history = invoke_json(url, "sql", "SELECT action FROM cluster_history WHERE actor = 'recluster'",
                          "--format", "json")
    assert {"action": "split"} in history and {"action": "create"} in history

    back = invoke_json(url, "recluster", "--json")
    assert back["merges"] and all(m["kind"] == "event" for m in back["merges"])
    assert placement(url) == before  # the original ids come back
    retired = invoke_json(url, "sql", "SELECT id, merged_into FROM clusters WHERE status = 'merged'",
                          "--format", "json")
    assert retired and all(r["merged_into"] in {e for _, e, _ in before.values()} for r in retired)
    assert invoke_json(url, "stats", "--json")["event_clusters"] == len({e for _, e, _ in before.values()})


def test_curation_errors_are_one_line(filled):
    url = filled.url
    clusters = invoke_json(url, "clusters", "--json")
    event = next(c for c in clusters if c["kind"] == "event")
    copy = next(c for c in clusters if c["kind"] == "copy" and c["size"] == 1)
    for args, message in [
        (("merge", str(event["id"]), str(copy["id"])), "merge clusters of one kind"),
        (("merge", str(copy["id"]), str(copy["id"])), "cannot be merged with itself"),
        (("merge", "99999", str(copy["id"])), "no cluster with id 99999"),
        (("split", str(copy["id"]), "99999"), "are not in copy cluster"),
        (("split", str(copy["id"]), str(copy["representative_id"])), "would leave it empty"),
        (("detach", str(copy["representative_id"])), "alone in copy cluster"),
        (("detach", "99999"), "no article with id 99999"),
        (("recluster", "--copy-threshold", "1.5"), "copy_jaccard must be in (0, 1]"),
    ]:
        out = invoke(url, *args, code=2)
        assert out.startswith("error: ") and message in out and out.count("\n") == 1, (args, out)
