"""From a received document (bytes plus what came with them) to an extracted article.

Decoding detects the encoding (charset-normalizer) instead of assuming UTF-8; HTML goes through
trafilatura for the main text and metadata; plain text and JSONL records go through the
text-header rules of `archive.core.metadata`. Cleaning (`archive.core.clean`) follows in all cases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from archive.core import clean as cleaning
from archive.core import metadata
from archive.errors import RejectedInput

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
# A clean text longer than this is no news article (a book, a log, a dump) and would cost seconds
# and hundreds of megabytes to fingerprint: it is refused.
MAX_TEXT_CHARS = 1_000_000
# Column widths of the archive (articles.url, sources.name, articles.byline/attribution).
MAX_URL_CHARS = 2000
MAX_NAME_CHARS = 200
MAX_BYLINE_CHARS = 500
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
_BINARY_CONTROL_RE = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_HTML_SNIFF_RE = re.compile(rb"<\s*(!doctype\s+html|html|head|body|article|div|p)\b", re.IGNORECASE)
_META_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)


@dataclasses.dataclass
class Document:
    """One input as received: the exact bytes and what its carrier said about them."""

    content: bytes
    location: str  # file path or URL it came from
    kind: str  # text, html or record (a JSONL record: fields below are authoritative)
    url: str | None = None
    media_type: str | None = None
    encoding_hint: str | None = None
    status_code: int | None = None
    headers: dict[str, str] | None = None
    source: str | None = None
    fields: dict[str, Any] | None = None  # title, text, published, source of a JSONL record
    fetched_at: dt.datetime | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclasses.dataclass
class Extracted:
    title: str | None
    byline: str | None
    published_at: dt.datetime | None
    source: str | None
    canonical_url: str | None
    attribution: str | None
    lines: list[str]
    removed: list[cleaning.Removal]
    encoding: str | None = None
    title_from_text: bool = False  # the first line of a plain text, taken for the title

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def storable_text(value: str) -> str:
    """The text without what no database column can hold: NUL characters and lone surrogates."""
    if not _UNSTORABLE_RE.search(value):
        return value
    return _UNSTORABLE_RE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def _storable_lines(lines: list[str]) -> list[str]:
    """`storable_text` of each line, with one scan when all are storable (as they nearly always are)."""
    if not _UNSTORABLE_RE.search("\n".join(lines)):
        return lines
    return [storable_text(line) for line in lines]


def _clip(value: str | None, limit: int) -> str | None:
    return storable_text(value)[:limit] if value else value


def _check_length(text: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise RejectedInput("too-large", f"{len(text)} characters of text, the limit is {MAX_TEXT_CHARS}")
    return text


def _utf8(content: bytes) -> str | None:
    """Strict UTF-8, forgiving only a multi-byte character cut off at the very end (a truncated file)."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(content) - 3:
            try:
                return content[: exc.start].decode("utf-8")
            except UnicodeDecodeError:
                return None
        return None


def decode(content: bytes, hint: str | None = None) -> tuple[str, str]:
    """Bytes to text with the detected encoding; raises RejectedInput for binary or undecodable bytes."""
    if not content.strip():
        raise RejectedInput("empty", "no bytes other than whitespace")
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
        hint = "utf-8"
    head = content[:65536]
    if b"\x00" in head and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")):
        raise RejectedInput("binary", "contains NUL bytes: not a text document")
    # Strict UTF-8 first: bytes that decode as UTF-8 almost never are anything else, while a
    # GBK label on UTF-8 bytes would "succeed" with mojibake.
    text = _utf8(content)
    if text is not None:
        return storable_text(text), "utf-8"
    if hint:
        try:
            return storable_text(content.decode(hint)), hint.lower()
        except (UnicodeDecodeError, LookupError):
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(content[:MAX_DOCUMENT_BYTES]).best()
    if best is None:
        raise RejectedInput("undecodable", "no text encoding fits these bytes")
    encoding = best.encoding
    if encoding in ("gb2312", "gbk"):
        encoding = "gb18030"  # a superset: decodes what a mislabelled GBK page really holds
    text = content.decode(encoding, errors="replace")
    if not encoding.startswith("utf_16"):
        controls = len(_BINARY_CONTROL_RE.findall(content[:4096]))
        if controls > 8:
            raise RejectedInput("binary", f"{controls} control bytes in the first 4 KiB: not a text document")
    if text.count("\ufffd") > max(8, len(text) // 100):
        raise RejectedInput("undecodable", f"too many undecodable bytes for {encoding}")
    return storable_text(text), encoding


def looks_like_html(content: bytes) -> bool:
    return bool(_HTML_SNIFF_RE.search(content[:4096]))


def _html_charset(content: bytes) -> str | None:
    m = _META_CHARSET_RE.search(content[:4096])
    return m.group(1).decode("ascii").lower() if m else None


def _finish(title, byline, published, source, canonical, body_lines, removed, encoding) -> Extracted:
    body = cleaning.chain(body_lines, (cleaning.drop_repeated_lines, cleaning.drop_boilerplate_lines))
    removed = removed + body.removed
    attribution = metadata.find_attribution("\n".join(body.lines[:3] + body.lines[-3:]))
    outlet = metadata.byline_outlet(byline)
    if not attribution and outlet and outlet != source:
        attribution = outlet
    if not body.lines:
        raise RejectedInput("no-text", "nothing is left after removing boilerplate")
    if canonical and len(canonical) > MAX_URL_CHARS:
        canonical = None
    return Extracted(
        title=_clip(title, MAX_TEXT_CHARS), byline=_clip(byline, MAX_BYLINE_CHARS), published_at=published,
        source=_clip(source, MAX_NAME_CHARS), canonical_url=_clip(canonical, MAX_URL_CHARS),
        attribution=_clip(attribution, MAX_NAME_CHARS), lines=_storable_lines(body.lines),
        removed=[dataclasses.replace(r, text=storable_text(r.text)) for r in removed],
        encoding=encoding,
    )


def extract_text(text: str, encoding: str | None = None, take_title: bool = True) -> Extracted:
    """Plain text: title on the first non-empty line, then byline, date and source lines."""
    canonical = metadata.find_canonical_url(text)
    lines = cleaning.split_lines(text)
    if not lines:
        raise RejectedInput("empty", "no text")
    affixes = cleaning.strip_repeated_affixes(lines)
    header = metadata.parse_header(affixes.lines, take_title=take_title)
    if not header.body and header.title and len(affixes.lines) == 1:
        header.body = [header.title]  # a one-line text (a headline, a lead) is its own body
    extracted = _finish(header.title, header.byline, header.published_at, header.source, canonical,
                        header.body, affixes.removed + header.removed, encoding)
    extracted.title_from_text = bool(take_title and header.title)
    return extracted


def extract_html(html: str, url: str | None, encoding: str | None = None) -> Extracted:
    """HTML: main text and metadata through trafilatura, then the same cleaning as text."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True,
        favor_precision=False, deduplicate=False,
        date_extraction_params={"outputformat": "%Y-%m-%dT%H:%M:%S%z", "original_date": True,
                                "extensive_search": False},
    )
    if doc is None or not (doc.text or "").strip():
        raise RejectedInput("no-text", "no main text found in the HTML")
    canonical = None
    if doc.url and url and doc.url != url:
        canonical = doc.url
    text = _check_length(doc.text)
    title = metadata.strip_site_suffix(doc.title, doc.sitename) or None
    lines = cleaning.split_lines(text)
    if title and lines and lines[0] == title:  # the <h1> repeated at the top of the main text
        lines = lines[1:]
    affixes = cleaning.strip_repeated_affixes(lines)
    header = metadata.parse_header(affixes.lines, take_title=False)
    published = metadata.parse_date(doc.date) if doc.date else None
    return _finish(
        title or (header.title if header.title else None), doc.author or header.byline,
        published or header.published_at, doc.sitename or header.source,
        canonical or metadata.find_canonical_url(text), header.body,
        affixes.removed + header.removed, encoding,
    )


def extract_record(fields: dict[str, Any]) -> Extracted:
    """A JSONL record: its title, text, published and source fields are taken as given."""
    text = fields.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RejectedInput("no-text", "the record has no text field (or it is not a string)")
    title = fields.get("title")
    if title is not None and not isinstance(title, str):
        raise RejectedInput("bad-field", f"title must be a string, got {type(title).__name__}")
    _check_length(text)
    published = fields.get("published", fields.get("date"))
    if isinstance(published, bool) or (published is not None and not isinstance(published, (str, int, float))):
        raise RejectedInput("bad-field", f"published must be a date string, got {type(published).__name__}")
    published_at = metadata.parse_date(str(published)) if isinstance(published, str) else None
    if isinstance(published, (int, float)) and 0 < published < 1e11:
        published_at = dt.datetime.fromtimestamp(published, dt.timezone.utc).replace(tzinfo=None)
    source = fields.get("source")
    extracted = extract_text(text, take_title=not (title or "").strip())
    if title and title.strip():
        extracted.title = storable_text(title.strip())
        extracted.title_from_text = False
    extracted.published_at = published_at or extracted.published_at
    if isinstance(source, str) and source.strip():
        extracted.source = _clip(source.strip(), MAX_NAME_CHARS)
    return extracted


def extract(doc: Document) -> Extracted:
    """Any document to an extracted article, or RejectedInput with the reason."""
    if len(doc.content) > MAX_DOCUMENT_BYTES:
        raise RejectedInput("too-large", f"{len(doc.content)} bytes, the limit is {MAX_DOCUMENT_BYTES}")
    if doc.kind == "record":
        return extract_record(doc.fields or {})
    hint = doc.encoding_hint
    is_html = doc.kind == "html" or (doc.kind != "text" and looks_like_html(doc.content))
    if is_html:
        hint = hint or _html_charset(doc.content)
    text, encoding = decode(doc.content, hint)
    if is_html:
        return extract_html(text, doc.url, encoding)
    return extract_text(_check_length(text), encoding)


def source_name(doc: Document, ex: Extracted) -> str | None:
    """The source an article is filed under: as delivered, as stated, its host, or its byline's outlet."""
    return (doc.source or ex.source or _host(doc.url) or _host(ex.canonical_url)
            or metadata.byline_outlet(ex.byline))


def _host(url: str | None) -> str | None:
    if url and url.startswith(("http://", "https://")):
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.") or None
    return None
