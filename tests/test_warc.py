"""WARC round trip: records in, articles with the record's URL and WARC-Date out, the rest rejected or skipped."""

from __future__ import annotations

import datetime as dt
import io
import json
import random

from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.cli import cli
from archive.pipeline.loaders import Rejection, load
from tests.test_batch import synthetic_text


def page(title: str, text: str, published: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta property='article:published_time' content='{published}'></head>"
        f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>Contact us</footer></body></html>"
    ).encode()


def write_warc(path, responses, extra_records=True, truncate=False) -> None:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    if extra_records:
        writer.write_record(writer.create_warcinfo_record("test.warc.gz", {"software": "tests"}))
    for url, status, content_type, body, date in responses:
        if extra_records:
            req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example")], is_http_request=True)
            writer.write_record(writer.create_warc_record(url, "request", http_headers=req,
                                                          warc_headers_dict={"WARC-Date": date}))
        http = StatusAndHeaders(f"{status} X", [("Content-Type", content_type)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      http_headers=http, warc_headers_dict={"WARC-Date": date}))
    data = buffer.getvalue()
    path.write_bytes(data[: len(data) - 40] if truncate else data)


def test_warc_round_trip_through_the_cli(archive, tmp_path):
    rng = random.Random(9)
    story, other = synthetic_text(rng, 150), synthetic_text(rng, 150)
    warc = tmp_path / "news.warc.gz"
    write_warc(warc, [
        ("https://news.example/2025/storm", "200", "text/html; charset=utf-8",
         page("Storm closes the harbour", story, "2025-03-01T08:00:00Z"), "2025-03-02T10:11:12Z"),
        ("https://farm.example/copy-of-storm", "200", "text/html",
         page("Storm closes the harbour", story + "\n\nRead it first at farm.example", "2025-03-01T09:30:00Z"),
         "2025-03-02T11:00:00Z"),
        ("https://news.example/2025/budget", "200", "text/html; charset=UTF-8",
         page("Council passes the budget", other, "2025-03-04T16:00:00+02:00"), "2025-03-05T00:00:00Z"),
        ("https://news.example/missing", "404", "text/html", b"<html>not found</html>", "2025-03-05T00:00:01Z"),
        ("https://news.example/logo.png", "200", "image/png", b"\x89PNG\r\n", "2025-03-05T00:00:02Z"),
    ])
    result = CliRunner().invoke(cli, ["ingest", str(warc), "--workers", "0", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert (summary["read"], summary["new"], summary["copies"], summary["rejected"]) == (5, 2, 1, 2)
    assert sorted(r["reason"] for r in summary["rejections"]) == ["http-status", "not-html"]

    storm = archive.article(archive.find_article("https://news.example/2025/storm"))
    assert storm["fetched_at"] == "2025-03-02 10:11:12"  # the WARC-Date
    assert storm["published_at"] == "2025-03-01 08:00:00"
    assert storm["title"] == "Storm closes the harbour"
    assert "Home" not in storm["clean_text"] and "Contact us" not in storm["clean_text"]
    budget = archive.article(archive.find_article("https://news.example/2025/budget"))
    assert budget["published_at"] == "2025-03-04 14:00:00"  # converted to UTC
    assert budget["fetched_at"] == "2025-03-05 00:00:00"
    copy = archive.article(archive.find_article("https://farm.example/copy-of-storm"))
    assert copy["copy_cluster"] == storm["copy_cluster"]
    cluster = archive.cluster(storm["copy_cluster"])
    assert {a["url"]: a["role"] for a in cluster["articles"]}["https://news.example/2025/storm"] == "original"

    again = json.loads(CliRunner().invoke(cli, ["ingest", str(warc), "--json"]).output)
    assert (again["new"], again["copies"], again["duplicates"]) == (0, 0, 3)


def test_truncated_warc_is_one_rejection_after_the_good_records(tmp_path):
    rng = random.Random(4)
    warc = tmp_path / "cut.warc.gz"
    write_warc(warc, [
        ("https://a.example/1", "200", "text/html", page("One", synthetic_text(rng), "2025-01-01"), "2025-01-02T00:00:00Z"),
        ("https://a.example/2", "200", "text/html", page("Two", synthetic_text(rng), "2025-01-01"), "2025-01-02T00:00:00Z"),
    ], extra_records=False, truncate=True)
    items = list(load([warc]))
    assert items[0].url == "https://a.example/1"
    assert items[0].fetched_at == dt.datetime(2025, 1, 2)
    assert len(items) == 2
    assert isinstance(items[-1], Rejection) and items[-1].reason == "truncated"
    assert items[-1].location.startswith(f"{warc}@")


def test_garbage_after_a_record_stops_the_file_with_one_rejection(tmp_path):
    rng = random.Random(5)
    warc = tmp_path / "junk.warc"
    write_warc(warc, [("https://b.example/1", "200", "text/html", page("B", synthetic_text(rng), "2025-01-01"),
                       "2025-01-02T00:00:00Z")], extra_records=False)
    import gzip

    plain = gzip.decompress(warc.read_bytes())
    warc.write_bytes(plain + b"this is not a WARC record\r\n\r\n")
    items = list(load([warc]))
    assert items[0].url == "https://b.example/1"
    assert isinstance(items[-1], Rejection) and items[-1].reason == "unreadable"
