"""JSONL round trip (zstd, gzip, standard input): records in, articles with their URLs and dates out."""

from __future__ import annotations

import gzip
import json
import random
import re

import zstandard
from click.testing import CliRunner

from archive.cli import cli
from tests.test_batch import synthetic_text


def records(seed: int, n: int = 8) -> list[dict]:
    rng = random.Random(seed)
    out = [{"id": i, "url": f"https://wire.example/{seed}/{i}", "title": f"Wire story {i}",
            "text": synthetic_text(rng), "published": f"2025-06-{10 + i:02d}T0{i % 10}:30:00Z", "source": "wire"}
           for i in range(n)]
    out.append({"id": "reprint", "url": f"https://farm.example/{seed}", "title": "Wire story 0",
                "text": out[0]["text"] + "\n\nShared from farm.example", "published": "2025-06-11", "source": "farm"})
    return out


def lines(items: list[dict]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in items)


def ingest(*args: str, stdin: bytes | None = None) -> dict:
    result = CliRunner().invoke(cli, ["ingest", *args, "--json"], input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def check_round_trip(archive, items: list[dict]) -> None:
    for record in items:
        article = archive.article(archive.find_article(record["url"]))
        assert article["title"] == record["title"]
        assert article["source"] == record["source"]
        expected = record["published"].replace("T", " ").removesuffix("Z")
        assert article["published_at"] == (expected if len(expected) > 10 else expected + " 00:00:00")


def test_zstd_jsonl_round_trip(archive, tmp_path):
    items = records(1)
    path = tmp_path / "dump.jsonl.zst"
    # two frames, as tools that append to a .zst file write them
    path.write_bytes(zstandard.ZstdCompressor().compress(lines(items[:4]))
                     + zstandard.ZstdCompressor().compress(lines(items[4:]) + b"{broken\n"))
    summary = ingest(str(path))
    assert (summary["read"], summary["new"], summary["copies"], summary["rejected"]) == (10, 8, 1, 1)
    assert summary["rejections"][0]["location"] == f"{path}:10"
    check_round_trip(archive, items)
    reprint = archive.article(archive.find_article("https://farm.example/1"))
    original = archive.article(archive.find_article("https://wire.example/1/0"))
    assert reprint["copy_cluster"] == original["copy_cluster"]


def test_gzip_file_and_standard_input(archive, tmp_path):
    first, second = records(2, 5), records(3, 5)
    path = tmp_path / "part.jsonl.gz"
    path.write_bytes(gzip.compress(lines(first)))
    assert ingest(str(path), "--workers", "0")["new"] == 5
    summary = ingest("-", stdin=lines(second))
    assert (summary["new"], summary["copies"]) == (5, 1)
    check_round_trip(archive, first + second)


def test_the_summary_table_shows_the_workers_and_the_writers_wait(archive, tmp_path):
    """How long the writer waited for its workers' batches, in seconds and as a share of the run;
    a dash when no workers ran."""
    path = tmp_path / "dump.jsonl"
    path.write_bytes(lines(records(4)))
    result = CliRunner().invoke(cli, ["ingest", "--workers", "1", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "waited" in result.output
    assert re.search(r"\b\d+\.\d s\b", result.output) and re.search(r"\(\d+%\)", result.output), result.output
    alone = CliRunner().invoke(cli, ["ingest", "--workers", "0", str(path)], catch_exceptions=False)
    assert alone.exit_code == 0, alone.output
    assert not re.search(r"\d s\b", alone.output) and "│ -" in alone.output, alone.output
