"""Loaders and decoding: detected encodings, walked folders, JSONL records, rejected inputs."""

from __future__ import annotations

import gzip
import json

import pytest

from archive.pipeline.extract import Document, extract
from archive.pipeline.loaders import Rejection, load
from tests.conftest import SEEDS

OTHER = SEEDS / "001_60d11f0826a252e5.txt"


def _extract(content: bytes, kind: str = "auto"):
    return extract(Document(content=content, location="test", kind=kind))


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "big5"])
def test_legacy_chinese_encodings_extract_like_utf8(encoding):
    text = OTHER.read_text("utf-8")
    if encoding == "big5":
        # Big5 holds traditional characters: compare a traditional text with itself in UTF-8.
        text = "東莞與香港的產業合作交流會在香港舉行,雙方簽署多項協議。\n" * 3 + "港資是東莞第一大外商投資來源。\n"
        text = "莞港產業合作交流會\n" + text
    text = text.encode(encoding, errors="ignore").decode(encoding)  # what the encoding can hold
    encoded = text.encode(encoding)
    assert _extract(encoded).text == _extract(text.encode("utf-8")).text
    assert _extract(encoded).title == _extract(text.encode("utf-8")).title


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty"),
        (b"   \n\t  \n", "empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00\x01\x02" * 500, "binary"),
    ],
)
def test_bad_bytes_are_rejected_with_a_reason(content, reason):
    from archive.errors import RejectedInput

    with pytest.raises(RejectedInput) as info:
        _extract(content)
    assert info.value.reason == reason


def test_walk_jsonl_and_rejections(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_bytes(OTHER.read_bytes())
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)  # a symlink loop is walked once
    lines = [
        json.dumps({"url": "https://example.test/1", "title": "One", "text": "Body one.", "source": "ex"}),
        "{not json",
        json.dumps({"url": 5, "text": "x"}),
        json.dumps(["a list"]),
        json.dumps({"url": "https://example.test/2", "title": "Two", "text": "Body two.", "published": "2025-03-17"}),
        '{"url": "https://example.test/3", "text": "a line cut off mid-stri',
    ]
    with gzip.open(tmp_path / "dump.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    items = list(load([tmp_path, tmp_path / "missing.txt"]))
    docs = [i for i in items if isinstance(i, Document)]
    rejected = [i for i in items if isinstance(i, Rejection)]
    assert sorted(d.location.rsplit("/", 1)[-1] for d in docs) == ["a.txt", "dump.jsonl.gz:1", "dump.jsonl.gz:5"]
    assert sorted(r.reason for r in rejected) == ["bad-field", "bad-json", "bad-json", "bad-json", "not-found"]
    cut = next(r for r in rejected if r.location.endswith(":6"))
    assert cut.detail.startswith("Unterminated string"), cut.detail  # not the newline's "Invalid control character"
    record = next(d for d in docs if d.location.endswith(":5"))
    ex = extract(record)
    assert (ex.title, ex.text, ex.published_at.date().isoformat()) == ("Two", "Body two.", "2025-03-17")


def test_rejected_inputs_are_recorded_and_the_run_goes_on(archive, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.txt").write_bytes(b"")
    (tmp_path / "in" / "blob.bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "in" / "ok.txt").write_bytes(OTHER.read_bytes())
    summary = archive.ingest_paths([tmp_path / "in"])
    assert (summary.new, summary.rejected, summary.status) == (1, 2, "ok")
    from sqlalchemy import select

    from archive.db.models import IngestRun, RejectedInput

    with archive.session() as session:
        reasons = sorted(session.scalars(select(RejectedInput.reason)))
        run = session.get(IngestRun, summary.run_id)
    assert reasons == ["binary", "empty"]
    assert (run.new, run.rejected, run.status) == (1, 2, "ok")


def test_reprint_with_other_watermark_joins_the_copy_cluster(archive, tmp_path):
    original = OTHER.read_text("utf-8")
    lines = original.splitlines()
    mark = "本文由快讯网整理发布 kuaixun.example"
    padded = [lines[0]] + [f"{line}{mark}" if len(line) > 30 else line for line in lines[1:]]
    padded += ["相关阅读", "某地举办马拉松比赛 03-18", "新能源汽车销量创新高 03-19", "春季招聘会开幕 03-20"]
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "original.txt").write_text(original, "utf-8")
    (tmp_path / "a" / "reprint.txt").write_text("\n".join(padded), "gbk", errors="ignore")
    summary = archive.ingest_paths([tmp_path / "a"])
    assert (summary.new, summary.copies) == (1, 1)
    copies = archive.clusters(kind="copy")
    assert len(copies) == 1 and copies[0]["size"] == 2
    roles = {a["url"].rsplit("/", 1)[-1]: a["role"] for a in copies[0]["articles"]}
    assert roles == {"original.txt": "original", "reprint.txt": "copy"}
    reprint = archive.article(archive.find_article((tmp_path / "a" / "reprint.txt").resolve().as_uri()))
    assert mark not in reprint["clean_text"] and "马拉松" not in reprint["clean_text"]


def test_html_file_main_text_and_metadata(tmp_path):
    body = OTHER.read_text("utf-8").splitlines()
    title, paragraphs = body[0], [line for line in body[2:9] if len(line) > 20]
    html = f"""<!doctype html><html><head><meta charset="gbk"><title>{title}_某某新闻网</title>
<meta name="author" content="孙迟悦"><meta property="article:published_time" content="2025-03-17T20:15:00+08:00">
</head><body><nav><a href="/">首页</a> <a href="/tech">科技</a> <a href="/finance">财经</a></nav>
<article><h1>{title}</h1>{''.join(f'<p>{p}</p>' for p in paragraphs)}</article>
<aside><h3>为你推荐</h3><ul><li><a href="/1">另一条新闻标题甲</a> 03-18</li><li><a href="/2">另一条新闻标题乙</a> 03-19</li></ul></aside>
<footer>版权所有 某某新闻网 · 分享到微信 · 分享到微博</footer></body></html>"""
    path = tmp_path / "page.html"
    path.write_bytes(html.encode("gbk", errors="ignore"))
    doc = next(iter(load([path])))
    ex = extract(doc)
    assert ex.title == title
    assert ex.published_at.isoformat() == "2025-03-17T12:15:00"
    assert ex.lines[0].startswith(paragraphs[0][:20])
    assert "为你推荐" not in ex.text and "首页" not in ex.text and "分享到" not in ex.text
