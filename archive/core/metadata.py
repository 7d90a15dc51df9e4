"""Metadata recognised in article text: title, byline, date, source, attribution, canonical link.

Dates are taken only when the text states one (a relative "10个月前" is no date); a date with an
offset is converted to UTC, one without an offset is kept as stated by the source (naive).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from archive.core.clean import Removal, is_date_line

_BYLINE_RE = re.compile(
    r"^(?:(?:[(（【]?\s*)?(?:(?:本报|本网|全媒体|特约)?记者|通讯员|作者|撰文|文|编辑|责任编辑|责编)\s*[:：/|]?\s*\S.{0,40}"
    r"|.{0,30}(?:记者|通讯员).{1,30}|.{2,40}(?:报道|电)\s*[)）】]?"
    r"|by\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,4}(?:,.{0,40})?)$",
)
_SOURCE_RE = re.compile(r"(?:来源|来自|稿源|出处|source)\s*[:：]\s*([^\s:：|]{2,40}(?![:：]))?", re.IGNORECASE)
_HEADER_NOISE_RE = re.compile(
    r"(\d+\s*(秒|分钟|小时|天|周|个月|年)前|(观看|阅读|浏览|点击|评论|views?|reads?)\s*[:：]?\s*\d*|"
    r"(来源|来自|稿源|出处|作者|编辑|source|author)\s*[:：]\s*\S{0,40})",
    re.IGNORECASE,
)
_ATTRIBUTION_RE = re.compile(
    r"(?:来源|稿源)\s*[:：]\s*([^\s,，。:：|]{2,30}(?![:：]))|(?:转自|转载自|转引自)\s*[:：]?\s*([^\s,，。]{2,30})|"
    r"据\s*([^\s,，。]{2,20}?)(?:消息|报道)|"
    r"(?:originally published (?:by|in|on)|first appeared (?:in|on)|source:)\s+([A-Z][\w.&' -]{1,60}?)(?:[.,;]|$)",
    re.IGNORECASE | re.MULTILINE,
)
# One of these is in every match of `_ATTRIBUTION_RE`, casefolded (the pattern ignores case; the Latin
# hints avoid "i", which it also matches as "ı" and "İ"): a quick test before its slow scan.
_ATTRIBUTION_HINTS = ("来源", "稿源", "转", "据", "ally publ", "appeared", "source:")
_CANONICAL_RE = re.compile(
    r"(?:本文链接|原文链接|原文地址|文章链接|永久链接|canonical(?: url| link)?|original (?:url|link))\s*[:：]?\s*"
    r"(https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+)",
    re.IGNORECASE,
)

_DATE_PATTERNS = (
    re.compile(
        r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
        r"(?:[ T]*(?P<H>\d{1,2})[:时](?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\.\d+)?\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
    ),
)
_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_EN_DATE_RE = re.compile(
    r"(?:(?P<mon1>[A-Za-z]{3,9})\.?\s+(?P<d1>\d{1,2}),?\s+(?P<y1>\d{4})|(?P<d2>\d{1,2})\s+(?P<mon2>[A-Za-z]{3,9})\.?\s+(?P<y2>\d{4}))"
)


@dataclasses.dataclass
class Header:
    title: str | None = None
    byline: str | None = None
    published_at: dt.datetime | None = None
    source: str | None = None
    body: list[str] = dataclasses.field(default_factory=list)
    removed: list[Removal] = dataclasses.field(default_factory=list)


def parse_date(text: str | None) -> dt.datetime | None:
    """The first full date (year, month, day) stated in `text`, else None; never guessed."""
    if not text:
        return None
    text = str(text).strip()
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return _to_utc_naive(value)
    except ValueError:
        pass
    for pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if m:
            try:
                value = dt.datetime(
                    int(m["y"]), int(m["m"]), int(m["d"]),
                    int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0),
                )
            except ValueError:
                continue
            tz = m["tz"]
            if tz:
                value = value.replace(tzinfo=_parse_offset(tz))
            return _to_utc_naive(value)
    m = _EN_DATE_RE.search(text)
    if m:
        mon = (m["mon1"] or m["mon2"] or "")[:3].lower()
        if mon in _MONTHS:
            try:
                return dt.datetime(int(m["y1"] or m["y2"]), _MONTHS[mon], int(m["d1"] or m["d2"]))
            except ValueError:
                return None
    return None


def _parse_offset(tz: str) -> dt.timezone:
    if tz == "Z":
        return dt.timezone.utc
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))


def _to_utc_naive(value: dt.datetime) -> dt.datetime | None:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if not 1900 <= value.year <= 2200:
        return None
    return value


def is_byline(line: str) -> bool:
    return len(line) <= 80 and bool(_BYLINE_RE.match(line.strip()))


def _header_leftover(line: str) -> str:
    return _HEADER_NOISE_RE.sub("", line).strip(" \t|·•-—:：,，")


def parse_header(lines: list[str], take_title: bool = True, scan: int = 6) -> Header:
    """Split the title and the metadata lines (byline, date, source, counters) from the body.

    Scans the first `scan` lines after the title and stops at the first line of body text.
    """
    header = Header()
    rest = list(lines)
    if take_title and rest:
        header.title = rest.pop(0)
    consumed = 0
    for line in rest[:scan]:
        date = parse_date(line) if len(line) <= 80 else None
        source = _SOURCE_RE.search(line) if len(line) <= 80 else None
        if is_byline(line) and not header.byline:
            header.byline = line
        elif date and (is_date_line(line) or len(_header_leftover(_strip_date(line))) <= 12):
            header.published_at = header.published_at or date
            if source and source.group(1):
                header.source = header.source or source.group(1)
        elif len(line) <= 80 and (source or _HEADER_NOISE_RE.search(line)) and len(_header_leftover(line)) <= 12:
            if source and source.group(1):
                header.source = header.source or source.group(1)
        elif is_date_line(line):
            pass
        else:
            break
        header.removed.append(Removal("header", line))
        consumed += 1
    header.body = rest[consumed:]
    return header


def _strip_date(line: str) -> str:
    line = _DATE_PATTERNS[0].sub("", line)
    return _EN_DATE_RE.sub("", line)


def find_canonical_url(text: str) -> str | None:
    if "://" not in text:  # which the link must hold: spares the pattern's scan of every position
        return None
    m = _CANONICAL_RE.search(text)
    return m.group(1).rstrip(".,;)") if m else None


def find_attribution(text: str) -> str | None:
    """The outlet an article credits as its origin (来源/转自/据…报道/"originally published by")."""
    folded = text.casefold()
    if not any(hint in folded for hint in _ATTRIBUTION_HINTS):
        return None
    for m in _ATTRIBUTION_RE.finditer(text):
        name = next((g for g in m.groups() if g), None)
        if name:
            return name.strip()
    return None


_SITE_SUFFIX_RE = re.compile(r"\s*(?:[_|–—]|\s-\s)\s*[^_|–—]{1,30}$")


def strip_site_suffix(title: str | None, site_name: str | None = None) -> str | None:
    """Drop a site-name suffix ("标题_新浪网", "Title | Site") that pages without an <h1> keep."""
    if not title:
        return title
    title = title.strip()
    if site_name and title.endswith(site_name):
        stripped = title[: -len(site_name)].rstrip(" _|-–—")
        if stripped:
            return stripped
    m = _SITE_SUFFIX_RE.search(title)
    if m and m.start() >= 8:
        return title[: m.start()].strip()
    return title


_OUTLET_RE = re.compile(r"^[(（【]?\s*(.{2,24}?)(?:全媒体|客户端|新媒体)?(?:记者|通讯员|特约)")


def byline_outlet(byline: str | None) -> str | None:
    """The outlet a byline names before its reporter ("21世纪经济报道记者 X" -> "21世纪经济报道")."""
    if not byline:
        return None
    m = _OUTLET_RE.match(byline.strip())
    if not m or m.group(1) in ("本报", "本网", "本台"):
        return None
    return m.group(1).strip()
