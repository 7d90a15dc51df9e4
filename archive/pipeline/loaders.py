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
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from archive.pipeline.extract import (
    MAX_DOCUMENT_BYTES,
    MAX_NAME_CHARS,
    MAX_URL_CHARS,
    Document,
    storable_text,
)

TEXT_SUFFIXES = {".txt", ".text", ".md"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml"}
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson", ".ndjson.gz", ".ndjson.zst")
WARC_SUFFIXES = (".warc", ".warc.gz")
# A decompressed stream larger than this is refused (a "zip bomb" stops here, not at the disk).
MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024 * 1024
MAX_LINE_BYTES = MAX_DOCUMENT_BYTES
# Past BOMB_FLOOR decompressed bytes, a stream expanding more than BOMB_RATIO-fold is refused
# (news JSONL compresses 3- to 20-fold).
BOMB_FLOOR = 256 * 1024 * 1024
BOMB_RATIO = 100
MAX_ID_CHARS = 200


@dataclasses.dataclass
class Rejection:
    location: str
    reason: str
    detail: str
    sha256: str | None = None

    def __post_init__(self) -> None:  # a detail may quote the bad input itself: keep it storable
        self.location = storable_text(self.location)
        self.detail = storable_text(self.detail or "")


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


def display_path(path: str | Path) -> str:
    """A path as storable text: bytes that are not UTF-8 in a file name become backslash escapes."""
    return os.fsdecode(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def walk(paths: Iterable[str | Path]) -> Iterator[Path | Rejection]:
    """Regular files under the given paths, sorted; each folder walked once, so symlink loops end.

    A dangling link, a pipe, a socket or a device is rejected with its reason, never opened.
    """
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        path = Path(raw)
        if str(raw) == "-":
            yield path
        elif path.is_dir():
            yield from _walk_dir(path, seen_dirs)
        else:
            yield _file_or_rejection(path)


def _file_or_rejection(path: Path) -> Path | Rejection:
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return Rejection(display_path(path), "unreadable", "dangling symbolic link")
        return Rejection(display_path(path), "not-found", "no such file or directory")
    except OSError as exc:  # a link loop (ELOOP), a name too long, no permission
        return Rejection(display_path(path), "unreadable", exc.strerror or str(exc))
    if not stat.S_ISREG(st.st_mode):
        return Rejection(display_path(path), "not-a-file", "not a regular file (a pipe, socket or device)")
    return path


def _walk_dir(root: Path, seen_dirs: set[tuple[int, int]]) -> Iterator[Path | Rejection]:
    try:
        st = root.stat()
    except OSError as exc:
        yield Rejection(display_path(root), "unreadable", exc.strerror or str(exc))
        return
    if (st.st_dev, st.st_ino) in seen_dirs:
        return
    seen_dirs.add((st.st_dev, st.st_ino))
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        yield Rejection(display_path(root), "unreadable", exc.strerror or str(exc))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError as exc:
            yield Rejection(display_path(path), "unreadable", exc.strerror or str(exc))
            continue
        if is_dir:
            yield from _walk_dir(path, seen_dirs)
        else:
            yield _file_or_rejection(path)


def _read_limited(fh, limit: int) -> bytes:
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"larger than the limit of {limit} bytes")
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
    location = display_path(path)
    try:
        with path.open("rb") as fh:
            content = _read_limited(fh, MAX_DOCUMENT_BYTES)
    except TooLarge as exc:
        yield Rejection(location, "too-large", str(exc))
        return
    except OSError as exc:
        yield Rejection(location, "unreadable", exc.strerror or str(exc))
        return
    yield Document(content=content, location=location, kind=kind or "auto", url=path.resolve().as_uri())


class TooLarge(ValueError):
    """An input past a size limit."""


def _open_compressed(path: Path):
    """(decompressed stream, raw file) of a .gz or .zst file, or the raw file twice."""
    name = path.name.lower()
    raw = path.open("rb")
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw), raw
    if name.endswith(".zst"):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True), raw
    return raw, raw


class _LimitedReader(io.RawIOBase):
    """Counts decompressed bytes and refuses a stream past MAX_DECOMPRESSED_BYTES, or one that
    expands more than BOMB_RATIO-fold once past BOMB_FLOOR bytes (a decompression bomb stops after
    a few hundred megabytes, not at the disk or the memory)."""

    def __init__(self, inner, raw, limit: int = MAX_DECOMPRESSED_BYTES):
        self.inner, self.raw, self.limit, self.count = inner, raw, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.inner.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise TooLarge(f"decompresses to more than {self.limit} bytes")
        if self.count > BOMB_FLOOR and self.raw is not self.inner:
            compressed = max(1, self.raw.tell())
            if self.count > BOMB_RATIO * compressed:
                raise TooLarge(f"{compressed} compressed bytes expand to more than {self.count}: "
                               f"over {BOMB_RATIO}-fold, a decompression bomb")
        buffer[: len(data)] = data
        return len(data)


def load_jsonl(path: Path) -> Iterator[Item]:
    try:
        fh, raw = _open_compressed(path)
    except OSError as exc:
        yield Rejection(display_path(path), "unreadable", exc.strerror or str(exc))
        return
    with raw, fh:
        stream = io.BufferedReader(_LimitedReader(fh, raw), 1 << 20)
        yield from load_jsonl_stream(stream, display_path(path))


def _read_line(stream, limit: int, location: str) -> bytes | Rejection:
    """One line of at most `limit` bytes (longer ones come back longer), or why the stream stopped."""
    try:
        return stream.readline(limit)
    except TooLarge as exc:
        return Rejection(location, "too-large", str(exc))
    except Exception as exc:  # noqa: BLE001 - gzip, zstd and OS errors all mean: the rest is unreadable
        return Rejection(location, "unreadable", f"stream stopped: {type(exc).__name__}: {exc}"[:500])


def load_jsonl_stream(stream, name: str) -> Iterator[Item]:
    """One document per JSON line: {url, title, text, published, source}; bad lines are rejected."""
    lineno = 0
    while True:
        line = _read_line(stream, MAX_LINE_BYTES + 1, name)
        if isinstance(line, Rejection):
            yield line
            return
        if not line:
            return
        lineno += 1
        location = f"{name}:{lineno}"
        if len(line) > MAX_LINE_BYTES:
            yield Rejection(location, "too-large", f"line longer than {MAX_LINE_BYTES} bytes")
            while not line.endswith(b"\n"):
                line = _read_line(stream, MAX_LINE_BYTES, name)
                if isinstance(line, Rejection):
                    yield line
                    return
                if not line:
                    return
            continue
        if not line.strip():
            continue
        yield record_document(line, location)


def record_document(line: bytes, location: str) -> Item:
    """A Document from one JSONL line, or a Rejection saying which field is wrong."""
    try:
        # Without its line end, a line cut short reads "Unterminated string", not "Invalid
        # control character" (the newline inside the unfinished string).
        record = json.loads(line.rstrip(b"\r\n"))
    except (ValueError, UnicodeDecodeError) as exc:
        return Rejection(location, "bad-json", str(exc)[:200])
    if not isinstance(record, dict):
        return Rejection(location, "bad-json", f"expected an object, got {type(record).__name__}")
    record = {k: storable_text(v) if isinstance(v, str) else v for k, v in record.items()}
    url = record.get("url")
    if url is not None and not isinstance(url, str):
        return Rejection(location, "bad-field", f"url must be a string, got {type(url).__name__}")
    if url and len(url) > MAX_URL_CHARS:
        return Rejection(location, "bad-field", f"url is {len(url)} characters long, the limit is {MAX_URL_CHARS}")
    record_id = record.get("id")
    if record_id is not None and (not isinstance(record_id, (str, int)) or len(str(record_id)) > MAX_ID_CHARS):
        return Rejection(location, "bad-field", f"id must be a string or number of at most {MAX_ID_CHARS} characters")
    source = record.get("source")
    if isinstance(source, str):
        source = source.strip()[:MAX_NAME_CHARS] or None
    else:
        source = None
    return Document(
        content=line.rstrip(b"\r\n"), location=location, kind="record",
        url=url or None, source=source, fields=record, media_type="application/json",
    )


def load(paths: Iterable[str | Path]) -> Iterator[Item]:
    for entry in walk(paths):
        if isinstance(entry, Rejection):
            yield entry
        else:
            yield from load_file(entry)
