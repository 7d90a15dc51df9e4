"""Per-source boilerplate: an edge line recurring across a source's articles is learned and removed
from its later articles (kept for audit), not from another source's; through real ingest, both
databases."""

from __future__ import annotations

import json
import random

from sqlalchemy import func, select

from archive.core import boilerplate
from archive.db.models import Source, SourcePhrase

FOOTER = "Copyright © 2024 Kelmor Daily News. All rights reserved."
HEADER = "Kelmor Daily: your town, every day"


def story(n: int, source: str) -> dict:
    rng = random.Random(n)
    words = "council harbour railway budget museum tunnel orchard bridge airport reservoir ferry quarry".split()
    paragraphs = [" ".join(f"The {rng.choice(words)} {rng.choice(words)} plan number {n * 10 + k} was "
                           f"{rng.choice(['approved', 'delayed', 'questioned'])} by {rng.choice(words)} officials."
                           for _ in range(3)) for k in range(4)]
    return {"id": f"{source}-{n}", "source": source, "title": f"Story {n} from {source}",
            "published": f"2025-03-{n + 1:02d}T08:00:00", "text": "\n".join([HEADER, *paragraphs, FOOTER])}


def test_a_source_footer_is_learned_and_removed_from_later_articles(archive, tmp_path):
    records = [story(n, "kelmor-daily.example") for n in range(9)] + [story(20, "other.example")]
    first_run, second_run = tmp_path / "first.jsonl", tmp_path / "second.jsonl"  # learning is per batch
    first_run.write_text("".join(json.dumps(r) + "\n" for r in records[:6]))
    second_run.write_text("".join(json.dumps(r) + "\n" for r in records[6:]))
    assert archive.ingest_paths([first_run]).new == 6
    summary = archive.ingest_paths([second_run], workers=1)  # learned phrases reach the worker processes
    assert (summary.new, summary.rejected) == (4, 0)

    def article(record):
        return archive.article(archive.find_article(f"urn:record:{record['source']}:{record['id']}"))

    first, later = article(records[0]), article(records[8])
    assert FOOTER.split(".")[0] in first["clean_text"]  # nothing learned yet
    assert "Kelmor Daily News" not in later["clean_text"] and HEADER not in later["clean_text"]
    assert {r["text"] for r in later["removed"] if r["rule"] == "source-boilerplate"} >= {HEADER}
    assert later["clean_text"].startswith("The ")
    assert "Kelmor Daily News" in article(records[9])["clean_text"]  # another source keeps it
    with archive.session() as session:
        learned = session.scalar(select(func.max(SourcePhrase.count)))
        texts = {(name, key): phrase for name, key, phrase in session.execute(
            select(Source.name, SourcePhrase.phrase_hash, SourcePhrase.phrase).join(Source))}
    assert learned >= 5
    # The learned phrases' texts are kept for audit; a phrase seen once is only counted.
    kelmor = "kelmor-daily.example"
    assert texts[(kelmor, boilerplate.phrase_key(HEADER))] == HEADER
    assert texts[(kelmor, boilerplate.phrase_key(FOOTER.split(". ")[0] + "."))].startswith("Copyright")
    assert texts[("other.example", boilerplate.phrase_key(HEADER))] == ""  # seen once there


def test_strip_learned_keeps_other_sentences_of_a_line():
    lines = ["Body sentence one is here.", "More body text in the middle.", "Thanks for reading. Read more at kd.example."]
    key = boilerplate.phrase_key("Read more at kd.example.")
    assert key in boilerplate.edge_phrases(lines)
    result = boilerplate.strip_learned(lines, {key})
    assert result.lines == ["Body sentence one is here.", "More body text in the middle.", "Thanks for reading."]
    assert [r.text for r in result.removed] == ["Read more at kd.example."]


def test_phrase_counts_add_up_across_batches(archive):
    """The per-batch upsert (one statement per chunk on both databases) adds to existing counts,
    for keys across the whole signed 64-bit range, and returns the counts after adding; on SQLite
    the counts wait in the recent tier, and a phrase counted partly in each tier is counted and
    learned as one, before and after the fold."""
    from archive.db import phrases

    def stored(session):
        return {(name, key): (count, phrase) for name, key, count, phrase in session.execute(
            select(Source.name, SourcePhrase.phrase_hash, SourcePhrase.count, SourcePhrase.phrase).join(Source))}

    with archive.session() as session:
        session.add_all([Source(name="a.example", kind="web"), Source(name="b.example", kind="web")])
        session.flush()
        first = phrases.count(session, {("a.example", 1): ("one", 2), ("a.example", 2**63 - 1): ("big", 1),
                                        ("b.example", -(2**63)): ("negative", 1), ("unknown.example", 7): ("x", 1)})
        staged = phrases.staged(session)
        assert (stored(session) == {}) == staged  # SQLite: nothing in source_phrases before a fold
        assert phrases.fold(session) == (3 if staged else 0)
        second = phrases.count(session, {("a.example", 1): ("one", 3), ("b.example", -(2**63)): ("negative", 1)})
        assert phrases.learned(session, None, 5) == {"a.example": {1}}  # 2 folded + 3 recent on SQLite
        assert phrases.learned(session, ["b.example"], 2) == {"b.example": {-(2**63)}}
        phrases.describe(session, {("a.example", 1): "one"})
        session.commit()
        phrases.fold(session)
        assert phrases.fold(session) == 0  # the recent tier is empty after a fold
        session.commit()
        counts = stored(session)
        assert phrases.learned(session, None, 5) == {"a.example": {1}}
    assert first == {("a.example", 1): 2, ("a.example", 2**63 - 1): 1, ("b.example", -(2**63)): 1}
    assert second == {("a.example", 1): 5, ("b.example", -(2**63)): 2}
    assert counts == {("a.example", 1): (5, "one"), ("a.example", 2**63 - 1): (1, ""),
                      ("b.example", -(2**63)): (2, "")}
