"""WARC and WARC.gz files (Common Crawl News and the like) to documents, streamed record by record.

Each `response` record whose HTTP body is HTML becomes a `Document` of kind html: the same
extraction as a crawled page, with the record's target URI as its URL, the WARC-Date as the time
it was fetched, and the HTTP status and headers kept. Other record types (request, metadata,
warcinfo, revisit) carry no article and are skipped; responses that are not HTML, not 200, too
large or cut short are rejected with the reason. A broken file stops with one rejection naming the offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from archive.core.metadata import parse_date
from archive.pipeline.extract import MAX_DOCUMENT_BYTES, MAX_URL_CHARS, Document, storable_text
from archive.pipeline.loaders import Rejection, display_path

HTML_TYPES = ("text/html", "application/xhtml+xml")


def load_warc(path: Path) -> Iterator[Document | Rejection]:
    """Documents from the HTML responses of one WARC file (plain or gzip, detected by warcio)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    where = display_path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        yield Rejection(where, "unreadable", str(exc))
        return
    with fh:
        records = ArchiveIterator(fh)
        offset, seen = 0, 0
        try:
            for record in records:
                if record.rec_type is None:  # what warcio makes of a file cut short
                    yield Rejection(f"{where}@{offset}", "unreadable", "a record without a WARC type: "
                                    "the file is cut short or is not WARC")
                    return
                seen += 1
                if record.rec_type != "response":
                    continue
                item = _document(record)
                offset = records.get_record_offset()  # known once the record is read to its end
                item.location = f"{where}@{offset}"
                yield item
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            yield Rejection(f"{where}@{offset}", "unreadable", f"WARC stream stopped: {exc}"[:500])
            return
        except Exception as exc:  # noqa: BLE001 - warcio fails on malformed records in its own ways
            yield Rejection(f"{where}@{offset}", "unreadable",
                            f"WARC stream stopped: malformed record ({type(exc).__name__}: {exc})"[:500])
            return
        if not seen:  # warcio ends quietly on a gzip cut short before its first record
            yield Rejection(f"{where}@0", "unreadable", "no WARC record could be read (empty or cut short)")


def _document(record, location: str = "") -> Document | Rejection:
    headers = record.rec_headers
    url = storable_text(headers.get_header("WARC-Target-URI") or "") or None
    if url and len(url) > MAX_URL_CHARS:
        return Rejection(location, "bad-field", f"target URI of {len(url)} characters, the limit is {MAX_URL_CHARS}")
    http = record.http_headers
    status = int(http.get_statuscode() or 0) if http else None
    content_type = (http.get_header("Content-Type") or "") if http else ""
    media_type, charset = _content_type(content_type)
    if status is not None and status != 200:
        return Rejection(location, "http-status", f"{url}: HTTP status {status}")
    if media_type and media_type not in HTML_TYPES:
        return Rejection(location, "not-html", f"{url}: {media_type}")
    body = record.content_stream().read(MAX_DOCUMENT_BYTES + 1)
    if len(body) > MAX_DOCUMENT_BYTES:
        return Rejection(location, "too-large", f"{url}: body larger than {MAX_DOCUMENT_BYTES} bytes")
    if getattr(record.raw_stream, "limit", 0) > 0:  # the file ended inside this record
        return Rejection(location, "truncated", f"{url}: the WARC file ends inside this record")
    return Document(
        content=body, location=location, kind="html", url=url or None, media_type=media_type or "text/html",
        encoding_hint=charset, status_code=status,
        headers=dict(http.headers) if http else None, fetched_at=_warc_date(headers.get_header("WARC-Date")),
    )


def _content_type(value: str) -> tuple[str, str | None]:
    parts = [p.strip() for p in value.split(";")]
    charset = next((p.split("=", 1)[1].strip("\"' ").lower() for p in parts[1:] if p.lower().startswith("charset=")),
                   None)
    return parts[0].lower(), charset or None


def _warc_date(value: str | None) -> dt.datetime | None:
    return parse_date(value) if value else None
