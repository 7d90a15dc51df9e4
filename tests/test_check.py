"""`archive check`: every invariant broken on purpose is found, and `--repair` mends what it can."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from archive.cli import cli
from tests import synth


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def partition(archive) -> set[frozenset[str]]:
    """The copy clusters as sets of article URLs (ids may differ between runs)."""
    with archive.session() as s:
        rows = s.execute(text("SELECT m.cluster_id, a.url FROM cluster_members m JOIN articles a "
                              "ON a.id = m.article_id WHERE m.kind = 'copy'")).all()
    groups: dict[int, set[str]] = {}
    for cluster_id, url in rows:
        groups.setdefault(cluster_id, set()).add(url)
    return {frozenset(g) for g in groups.values()}


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def test_clean_archive_passes_and_corruptions_are_found_and_repaired(archive, db_url, tmp_path):
    archive.ingest_paths(synth.write_files(tmp_path / "in", range(3), reprints=2))
    result = invoke("check", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"ok": True, "violations": [], "repaired": {}}
    before = partition(archive)
    assert len(before) == 3 and all(len(g) == 3 for g in before)

    with archive.session() as s:
        copy_ids = s.scalars(text("SELECT id FROM clusters WHERE kind = 'copy' ORDER BY id")).all()
        event_ids = s.scalars(text("SELECT id FROM clusters WHERE kind = 'event' ORDER BY id")).all()
        rep = s.scalar(text(f"SELECT representative_id FROM clusters WHERE id = {copy_ids[0]}"))
    execute(
        db_url,
        "DELETE FROM band_keys WHERE article_id = 1 AND level IN (0, 2) AND band < 5",  # either tier
        "DELETE FROM band_keys WHERE article_id = 2 AND level IN (1, 3)",
        f"UPDATE clusters SET size = 7 WHERE id = {copy_ids[1]}",
        "DELETE FROM cluster_members WHERE article_id = 4 AND kind = 'event'",
        "INSERT INTO raw_documents (sha256, location, size, compression, content, received_at) "
        "VALUES ('f00d', 'lost.txt', 1, 'none', 'x', '2025-01-01')",
        f"UPDATE clusters SET representative_id = {rep + 100} WHERE id = {copy_ids[0]}",
        "INSERT INTO clusters (kind, size, status, created_at, updated_at) "
        "VALUES ('event', 0, 'active', '2025-01-01', '2025-01-01')",
        f"UPDATE clusters SET event_id = {event_ids[0]} WHERE id = {copy_ids[2]}",
    )
    result = invoke("check", "--json")
    assert result.exit_code == 1
    found = {v["rule"]: v for v in json.loads(result.output)["violations"]}
    assert set(found) == {"band-keys-copy", "band-keys-event", "cluster-size", "no-event-cluster",
                          "unreferenced-raw", "representative", "empty-cluster", "copy-in-event"}
    assert found["band-keys-copy"]["examples"] == [1]
    assert found["band-keys-event"]["examples"] == [2]
    assert found["no-event-cluster"]["examples"] == [4]
    assert copy_ids[2] in found["copy-in-event"]["examples"]
    assert all(v["repairable"] for v in found.values())
    table = invoke("check")
    assert table.exit_code == 1 and "band-keys-copy" in table.output

    repaired = invoke("check", "--repair", "--json")
    assert repaired.exit_code == 0, repaired.output
    report = json.loads(repaired.output)
    assert report["ok"] and set(report["repaired"]) >= {"band-keys-copy", "band-keys-event", "unreferenced-raw"}
    assert partition(archive) == before
    assert invoke("check").exit_code == 0


def test_one_text_in_two_copy_clusters_is_reported_not_repaired(archive, db_url, tmp_path):
    archive.ingest_paths(synth.write_files(tmp_path / "in", range(2)))
    again = tmp_path / "again.txt"
    again.write_text(synth.article(0) + "\n\n", encoding="utf-8")  # other bytes, same text: a copy
    archive.ingest_paths([again])
    with archive.session() as s:
        moved, event = s.execute(text(
            "SELECT m.article_id, c.event_id FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
            "WHERE m.kind = 'copy' AND m.role = 'copy'")).one()
    execute(
        db_url,
        "INSERT INTO clusters (kind, representative_id, size, status, created_at, updated_at, event_id) "
        f"VALUES ('copy', {moved}, 1, 'active', '2025-01-01', '2025-01-01', {event})",
        f"UPDATE cluster_members SET cluster_id = (SELECT max(id) FROM clusters), role = 'original' "
        f"WHERE article_id = {moved} AND kind = 'copy'",
        f"UPDATE clusters SET size = 1 WHERE id = (SELECT cluster_id FROM cluster_members "
        f"WHERE kind = 'copy' AND article_id <> {moved} AND article_id IN "
        f"(SELECT id FROM articles WHERE text_hash = (SELECT text_hash FROM articles WHERE id = {moved})))",
    )
    result = invoke("check", "--repair", "--json")
    assert result.exit_code == 1
    violations = json.loads(result.output)["violations"]
    assert [(v["rule"], v["repairable"]) for v in violations] == [("split-text", False)]


def test_curation_keeps_every_invariant(sqlite_url, tmp_path):
    from tests.reporting_helpers import fill, invoke, invoke_json

    fill(sqlite_url, tmp_path)
    p = {r["url"]: r for r in invoke_json(sqlite_url, "sql", "SELECT url, article_id, copy_cluster_id, "
                                          "event_cluster_id FROM report_articles", "--format", "json")}
    alpha0, beta0 = "https://alpha.example/event0/story", "https://beta.example/event0/story"
    farm1, beta2 = "https://farm.example/copy/1", "https://beta.example/event2/story"
    steps = [("merge", str(p[alpha0]["copy_cluster_id"]), str(p[beta0]["copy_cluster_id"])),
             ("detach", str(p[farm1]["article_id"])),
             ("split", str(p[beta2]["event_cluster_id"]), str(p[beta2]["article_id"])),
             ("recluster", "--event-threshold", "0.95")]
    for step in steps:
        invoke(sqlite_url, *step)
        assert invoke_json(sqlite_url, "check", "--json")["ok"], step


def test_raw_bytes_that_do_not_decompress_are_reported_not_repaired(archive, db_url, tmp_path):
    archive.ingest_paths(synth.write_files(tmp_path / "in", range(3)))
    with archive.session() as s:
        ids = s.scalars(text("SELECT id FROM raw_documents WHERE compression = 'zstd' ORDER BY id")).all()
    assert len(ids) == 3
    execute(db_url, f"UPDATE raw_documents SET content = substr(content, 1, 12) WHERE id = {ids[0]}",
            f"UPDATE raw_documents SET size = size + 1 WHERE id = {ids[2]}")
    for args in (("check", "--json"), ("check", "--repair", "--json")):
        result = invoke(*args)
        assert result.exit_code == 1
        violations = json.loads(result.output)["violations"]
        assert [(v["rule"], v["examples"], v["repairable"]) for v in violations] == [
            ("unreadable-raw", [ids[0], ids[2]], False)]


def test_band_keys_of_missing_articles_are_found_and_removed(sqlite_url, tmp_path):
    """Keys whose article does not exist (written with foreign-key checks off) are orphans: the
    check names their article ids, `--repair` deletes them, in either tier of the index."""
    import sqlite3

    from archive.api import Archive
    from archive.config import load_settings

    settings = load_settings({"ARCHIVE_DATABASE_URL": sqlite_url})
    with Archive(settings) as archive:
        archive.ingest_paths(synth.write_files(tmp_path / "in", range(2)))
        path = sqlite_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:  # foreign-key checks are off unless a connection asks
            conn.executemany("INSERT INTO band_keys (level, band, key, article_id) VALUES (?, ?, ?, ?)",
                             [(0, 0, 12345, 999), (3, 0, -678, 999), (1, 0, 42, 1000)])
        report = archive.check()
        assert [(v.rule, v.count, v.examples) for v in report.violations] == [("orphan-band-keys", 2, [999, 1000])]
        repaired = archive.check(repair=True)
        assert repaired.ok and repaired.repaired == {"orphan-band-keys": 2}
