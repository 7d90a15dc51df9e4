"""The hostile corpus (tests/hostile.py) through the real CLI on both databases: every input is
archived correctly or rejected with its recorded reason, the run goes on, memory stays bounded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests import hostile

ARCHIVE = [sys.executable, "-c", "from archive.cli import main; main()"]
MAX_RSS_MB = 700


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile") / "corpus"
    return folder, hostile.build(folder)


def run_measured(argv: list[str], env: dict[str, str], out_path) -> tuple[int, float]:
    """(exit status, peak resident memory in MB) of a child process."""
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024


def test_every_hostile_input_is_archived_or_rejected_with_its_reason(corpus, db_url, tmp_path):
    folder, expectations = corpus
    env = {**os.environ, "ARCHIVE_DATABASE_URL": db_url}
    status, peak_mb = run_measured(ARCHIVE + ["ingest", str(folder), "--json"], env, tmp_path / "out.json")
    summary = json.loads((tmp_path / "out.json").read_text())
    assert status == 0 and summary["status"] == "ok"
    assert peak_mb < MAX_RSS_MB, f"ingest of the hostile corpus peaked at {peak_mb:.0f} MB"
    assert summary["read"] == summary["new"] + summary["copies"] + summary["duplicates"] + summary["rejected"]

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rejected = {(loc, reason) for loc, reason in conn.execute(text("SELECT location, reason FROM rejected_inputs"))}
        archived = {loc: (clean, published) for loc, clean, published in conn.execute(text(
            "SELECT r.location, a.clean_text, a.published_at FROM articles a "
            "JOIN raw_documents r ON r.id = a.raw_document_id"))}
    engine.dispose()
    problems = []
    for e in expectations:
        where = e.location(folder)
        if e.outcome == "archived":
            if where not in archived:
                problems.append(f"{e.name}: not archived (rejections: {[r for r in rejected if r[0] == where]})")
                continue
            clean, published = archived[where]
            if e.contains and e.contains not in clean:
                problems.append(f"{e.name}: clean text lacks {e.contains!r}: {clean[:80]!r}")
            if e.dated is not None and (published is not None) != e.dated:
                problems.append(f"{e.name}: published_at is {published}")
            if "\x00" in clean:
                problems.append(f"{e.name}: NUL kept in the clean text")
        elif (where, e.outcome) not in rejected:
            problems.append(f"{e.name}: expected rejection {e.outcome}, got "
                            f"{[r for r in rejected if r[0] == where] or ('archived' if where in archived else 'nothing')}")
    assert not problems, "\n".join(problems)
    assert len(archived) == summary["new"] + summary["copies"]

    check = subprocess.run(ARCHIVE + ["check", "--json"], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_batches_are_cut_by_the_bytes_they_hold():
    from archive.pipeline.batch import batches
    from archive.pipeline.extract import Document

    docs = [Document(content=b"x" * 1000, location=f"d{i}", kind="text") for i in range(10)]
    assert [len(b) for b in batches(docs, size=4, max_bytes=2500)] == [3, 3, 3, 1]
    assert [len(b) for b in batches(docs, size=4, max_bytes=10**9)] == [4, 4, 2]
