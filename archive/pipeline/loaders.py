"""Inputs to documents: files, folders (walked), JSONL (plain, .gz, .zst, or `-` for stdin).

Each loader yields `Document`s, or `Rejection`s for inputs that cannot be read, and never raises
for one bad input. Compressed inputs are read in a streaming way and refused past a size limit.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from archive.pipeline.extract import MAX_DOCUMENT_BYTES, Document

TEXT_SUFFIXES = {".txt", ".text", ".md"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst")
WARC_SUFFIXES = (".warc", ".warc.gz")
# A decompressed stream larger than this is refused (a "zip bomb" stops here, not at the disk).
MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024 * 1024
MAX_LINE_BYTES = MAX_DOCUMENT_BYTES


@dataclasses.dataclass
class Rejection:
    location: str
    reason: str
    detail: str
    sha256: str | None = None


Item = Document | Rejection


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if path.suffix.lower() in HTML_SUFFIXES:
        return "html"
    if path.suffix.lower() in TEXT_SUFFIXES:
        return "text"
    return None


def walk(paths: Iterable[str | Path]) -> Iterator[Path | Rejection]:
    """Files under the given paths, sorted, each real file once (symlink loops are not followed twice)."""
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        path = Path(raw)
        if str(raw) == "-":
            yield path
        elif path.is_dir():
            yield from _walk_dir(path, seen_dirs)
        elif path.exists():
            yield path
        else:
            yield Rejection(str(path), "not-found", "no such file or directory")


def _walk_dir(root: Path, seen_dirs: set[tuple[int, int]]) -> Iterator[Path | Rejection]:
    try:
        st = root.stat()
    except OSError as exc:
        yield Rejection(str(root), "unreadable", str(exc))
        return
    if (st.st_dev, st.st_ino) in seen_dirs:
        return
    seen_dirs.add((st.st_dev, st.st_ino))
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        yield Rejection(str(root), "unreadable", str(exc))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=True):
                yield from _walk_dir(path, seen_dirs)
            elif entry.is_file(follow_symlinks=True):
                yield path
        except OSError as exc:
            yield Rejection(str(path), "unreadable", str(exc))


def _read_limited(fh, limit: int) -> bytes:
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than the limit of {limit} bytes")
    return data


def load_file(path: Path) -> Iterator[Item]:
    """Documents from one file, chosen by its name; unknown suffixes are sniffed as text or HTML."""
    if str(path) == "-":
        yield from load_jsonl_stream(sys.stdin.buffer, "-")
        return
    kind = kind_of(path)
    if kind == "jsonl":
        yield from load_jsonl(path)
        return
    if kind == "warc":
        from archive.pipeline.warc import load_warc

        yield from load_warc(path)
        return
    try:
        with path.open("rb") as fh:
            content = _read_limited(fh, MAX_DOCUMENT_BYTES)
    except ValueError as exc:
        yield Rejection(str(path), "too-large", str(exc))
        return
    except OSError as exc:
        yield Rejection(str(path), "unreadable", str(exc))
        return
    yield Document(content=content, location=str(path), kind=kind or "auto", url=path.resolve().as_uri())


def _open_compressed(path: Path):
    name = path.name.lower()
    raw = path.open("rb")
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw)
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return raw


class _LimitedReader(io.RawIOBase):
    """Counts decompressed bytes and stops past MAX_DECOMPRESSED_BYTES."""

    def __init__(self, inner, limit: int):
        self.inner, self.limit, self.count = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise ValueError(f"decompresses to more than {self.limit} bytes")
        buffer[: len(data)] = data
        return len(data)


def load_jsonl(path: Path) -> Iterator[Item]:
    try:
        fh = _open_compressed(path)
    except OSError as exc:
        yield Rejection(str(path), "unreadable", str(exc))
        return
    with fh:
        yield from load_jsonl_stream(io.BufferedReader(_LimitedReader(fh, MAX_DECOMPRESSED_BYTES), 1 << 20), str(path))


def load_jsonl_stream(stream, name: str) -> Iterator[Item]:
    """One document per JSON line: {url, title, text, published, source}; bad lines are rejected."""
    lineno = 0
    while True:
        try:
            line = stream.readline(MAX_LINE_BYTES + 1)
        except (OSError, EOFError, ValueError) as exc:
            yield Rejection(f"{name}:{lineno + 1}", "unreadable", f"stream stopped: {exc}")
            return
        if not line:
            return
        lineno += 1
        location = f"{name}:{lineno}"
        if len(line) > MAX_LINE_BYTES:
            yield Rejection(location, "too-large", f"line longer than {MAX_LINE_BYTES} bytes")
            while line and not line.endswith(b"\n"):
                line = stream.readline(MAX_LINE_BYTES)
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            yield Rejection(location, "bad-json", str(exc)[:200])
            continue
        if not isinstance(record, dict):
            yield Rejection(location, "bad-json", f"expected an object, got {type(record).__name__}")
            continue
        url = record.get("url")
        if url is not None and not isinstance(url, str):
            yield Rejection(location, "bad-field", f"url must be a string, got {type(url).__name__}")
            continue
        source = record.get("source")
        yield Document(
            content=line.rstrip(b"\r\n"), location=location, kind="record",
            url=url or None, source=source if isinstance(source, str) else None, fields=record,
            media_type="application/json",
        )


def load(paths: Iterable[str | Path]) -> Iterator[Item]:
    for entry in walk(paths):
        if isinstance(entry, Rejection):
            yield entry
        else:
            yield from load_file(entry)
