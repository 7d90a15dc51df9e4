"""A generated corpus of hostile inputs, each with what the archive must do with it.

`build(folder)` writes the corpus and returns one `Expect` per input: the input must be archived
(`archived`, optionally with a phrase its clean text must contain and whether it has a date) or
rejected with a given reason code. Everything is synthesised here; nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import random
import re
from pathlib import Path

from tests import synth

MB = 1024 * 1024
ZH = ["记者从市政府获悉,新建的跨江大桥今天正式通车,全长三千二百米,双向六车道。",
      "据介绍,大桥建设历时四年,总投资约四十五亿元,将两岸通行时间从四十分钟缩短到八分钟。",
      "市交通部门表示,通车初期将加强交通疏导,并在高峰时段增派警力维持秩序。",
      "不少市民一早就来到桥头,拍照留念,有人说这是家门口的大事。"]


@dataclasses.dataclass
class Expect:
    name: str  # file name, or "file.jsonl:LINE"
    outcome: str  # archived, or the rejection reason code
    contains: str | None = None  # a phrase the archived clean text holds
    dated: bool | None = None  # whether the archived article has a publication date

    def location(self, folder: Path) -> str:
        """Where the ingest records this input: the file's path, or "path:LINE" of a JSONL line."""
        from archive.pipeline.loaders import display_path

        m = re.fullmatch(r"(.+\.jsonl(?:\.gz)?):(\d+)", self.name)
        if m:
            return f"{display_path(folder / m.group(1))}:{m.group(2)}"
        return display_path(folder / self.name)


def _zh_article(title: str, paragraphs: int = 3) -> str:
    return title + "\n\n" + "\n\n".join(ZH[:paragraphs])


def _gzip_bomb(path: Path, expanded: int) -> None:
    """A gzip file of many members, each 1 MiB of zeros: `expanded` bytes from a few KiB per MiB."""
    member = gzip.compress(b"\0" * MB, compresslevel=9)
    with path.open("wb") as fh:
        for _ in range(expanded // MB):
            fh.write(member)


def _zstd_bomb(path: Path, expanded: int) -> None:
    import zstandard

    frame = zstandard.ZstdCompressor(level=19).compress((b" " * 1023 + b"\n") * 1024)  # blank lines
    with path.open("wb") as fh:
        for _ in range(expanded // MB):
            fh.write(frame)


def build(folder: Path, big: bool = True) -> list[Expect]:
    """Write the corpus into `folder`; `big` adds the 50 MB file and the 10 MB line."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(6)
    out: list[Expect] = []

    def put(name: str, data: bytes | str, outcome: str, **kw) -> None:
        path = folder / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        out.append(Expect(name, outcome, **kw))

    put("empty.txt", b"", "empty")
    put("whitespace.txt", " \n\t\r\n  \n", "empty")
    put("binary.dat", bytes(rng.getrandbits(8) for _ in range(4096)) + b"\0" * 64, "binary")
    put("png-as-html.html", b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(2048)), "binary")
    zh = _zh_article("跨江大桥正式通车").encode("utf-8")
    put("truncated-utf8.txt", zh[:-1], "archived", contains="大桥建设历时四年")
    put("gbk-declared-utf8.html",
        ('<html><head><meta charset="utf-8"><title>跨江大桥正式通车</title></head><body><article>'
         + "".join(f"<p>{p}</p>" for p in ZH[:3]) + "</article></body></html>").encode("gbk"),
        "archived", contains="大桥建设历时四年")
    put("utf8-declared-gbk.html",
        ('<html><head><meta charset="gbk"><title>大桥通车</title></head><body><article>'
         + "".join(f"<p>{p}</p>" for p in ZH[1:]) + "</article></body></html>").encode("utf-8"),
        "archived", contains="增派警力维持秩序")
    put("gb18030-unlabelled.txt", _zh_article("大桥今日通车", 2).replace("四年", "五年").encode("gb18030"),
        "archived", contains="建设历时五年")
    put("utf16-bom.txt", "\ufeff" + synth.article(9001), "archived")
    put("latin1.txt", ("Café crème à la française\n\n" + synth.body(9002)
                       + "\n\nNaïve façade, déjà vu, piñata.").encode("latin-1"), "archived", contains="déjà vu")
    put("no-body.html", "<html><head><title>Nothing here</title></head></html>", "no-text")
    put("only-scripts.html", "<html><body>" + "<script>var x = 1; document.write('hi');</script>" * 50
        + "<style>p{color:red}</style></body></html>", "no-text")
    nested = "<div>" * 100_000 + "Deep text that nobody will read." + "</div>" * 100_000
    put("deeply-nested.html", f"<html><body>{nested}</body></html>", "no-text")
    put("impossible-date.txt", "A bridge opens\n发布时间: 2025-02-30 25:61\n\n" + synth.body(9003), "archived",
        dated=False)
    put("year-zero.txt", "Old news\nPublished: 0000-00-00\n\n" + synth.body(9004), "archived", dated=False)
    put("nul-late.txt", synth.article(9005) + "\n" + "x" * 70_000 + "\0tail", "archived")
    # odd file names
    for i, name in enumerate(["news with spaces.txt", "新闻 ünïcødé.txt", "-starts-with-dash.txt",
                              "quote'; DROP TABLE articles; --.txt", "tab\tand\nnewline.txt", "%20%00.txt"]):
        put(name, synth.article(9100 + i), "archived")
    bad = os.fsdecode(b"latin1-\xe9t\xe9.txt")  # not valid UTF-8: surrogate-escaped
    (folder / bad).write_bytes(synth.article(9110).encode())
    out.append(Expect(bad, "archived"))
    # a symlink loop and a dangling link inside a sub-folder
    loop = folder / "loop"
    loop.mkdir()
    (loop / "inside.txt").write_text(synth.article(9120), encoding="utf-8")
    os.symlink("..", loop / "parent")
    os.symlink(".", loop / "self")
    out.append(Expect("loop/inside.txt", "archived"))
    os.symlink("missing-target.txt", folder / "dangling.txt")
    out.append(Expect("dangling.txt", "unreadable"))
    os.mkfifo(folder / "pipe.txt")
    out.append(Expect("pipe.txt", "not-a-file"))
    # JSONL: malformed lines, wrong types, impossible dates
    records = [
        b'{"url": "https://h.test/1", "title": "Fine", "text": ' + json.dumps(synth.body(9200)).encode() + b"}",
        b'{"url": "https://h.test/2", "title": "Broken", "text": "unterminated',
        b"[1, 2, 3]",
        b'{"url": 42, "text": "x"}',
        b'{"url": "https://h.test/3", "title": 7, "text": "seven"}',
        b'{"url": "https://h.test/4", "text": ["a", "list"]}',
        b'{"url": "https://h.test/5", "text": ' + json.dumps(synth.body(9201)).encode()
        + b', "published": "2025-13-45T99:99:99"}',
        b'{"url": "https://h.test/6", "text": ' + json.dumps(synth.body(9202)).encode() + b', "published": 1e300}',
        b'{"url": "https://h.test/7", "text": ' + json.dumps(synth.body(9203)).encode() + b', "published": {"y": 1}}',
        json.dumps({"url": "https://h.test/8", "text": "NUL \0 and a lone surrogate \ud800 in " + synth.body(9204),
                    "source": "src\0name"}).encode(),
        b'{"url": "https://h.test/' + b"x" * 3000 + b'", "text": ' + json.dumps(synth.body(9205)).encode() + b"}",
        b'{"url": "https://h.test/10", "text": ' + json.dumps(synth.body(9206)).encode()
        + b', "source": "' + b"s" * 500 + b'", "title": "' + b"T" * 5000 + b'"}',
        b"\xff\xfe not json at all",
        b'{"url": "https://h.test/11", "text": "   "}',
        b"null",
    ]
    outcomes = [("archived", False), ("bad-json", None), ("bad-json", None), ("bad-field", None), ("bad-field", None),
                ("no-text", None), ("archived", False), ("archived", False), ("bad-field", None),
                ("archived", None), ("bad-field", None), ("archived", None), ("bad-json", None), ("no-text", None),
                ("bad-json", None)]
    (folder / "records.jsonl").write_bytes(b"\n".join(records) + b"\n")
    for lineno, (outcome, dated) in enumerate(outcomes, 1):
        out.append(Expect(f"records.jsonl:{lineno}", outcome, dated=dated))
    # compressed inputs: a good one, a truncated one, and bombs expanding to gigabytes
    good = "\n".join(json.dumps({"url": f"https://h.test/gz/{i}", "text": synth.body(9300 + i)}) for i in range(3))
    (folder / "good.jsonl.gz").write_bytes(gzip.compress(good.encode()))
    out += [Expect(f"good.jsonl.gz:{i}", "archived") for i in (1, 2, 3)]
    (folder / "truncated.jsonl.gz").write_bytes(gzip.compress((good + "\n").encode())[:-30])
    out.append(Expect("truncated.jsonl.gz", "unreadable"))
    _gzip_bomb(folder / "bomb.jsonl.gz", 6 * 1024 * MB)
    out.append(Expect("bomb.jsonl.gz", "too-large"))
    _zstd_bomb(folder / "bomb.jsonl.zst", 6 * 1024 * MB)
    out.append(Expect("bomb.jsonl.zst", "too-large"))
    # WARC: random bytes named .warc.gz, a gzip cut short, a record whose headers end too soon
    put("random.warc.gz", bytes(rng.getrandbits(8) for _ in range(3000)) + b"\0", "unreadable")
    out[-1].name = "random.warc.gz@0"
    record = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://h.test/w\r\nContent-Length: 5000\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>" + b"<p>words</p>" * 300)
    put("cut.warc.gz", gzip.compress(record)[:-100], "unreadable")
    out[-1].name = "cut.warc.gz@0"
    put("headless.warc", b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 99999\r\n\r\nHTTP/1.1 200 OK\r\n\r\n<html>",
        "unreadable")
    out[-1].name = "headless.warc@0"
    if big:
        with (folder / "fifty-mb.txt").open("wb") as fh:
            fh.write(b"A very large file\n\n")
            line = (synth.body(9400, 1) + "\n").encode()
            while fh.tell() < 50 * MB:
                fh.write(line)
        out.append(Expect("fifty-mb.txt", "too-large"))
        words = synth.body(9401).split()
        with (folder / "one-line-10mb.txt").open("w", encoding="utf-8") as fh:
            fh.write(" ".join(words[i % len(words)] + str(i % 997) for i in range(1_300_000))[:10 * MB])
        out.append(Expect("one-line-10mb.txt", "too-large"))
    return out

