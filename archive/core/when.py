"""Times given by a user on the command line: absolute dates or a span back from now."""

from __future__ import annotations

import datetime as dt
import re

_SPAN_RE = re.compile(r"^(\d+)\s*([hdw])$")
_SPAN_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
FORMATS = "YYYY-MM-DD, 'YYYY-MM-DD HH:MM[:SS]' or a span back from now such as 24h, 7d, 2w"


def parse_when(text: str, now: dt.datetime) -> dt.datetime:
    """A naive UTC datetime from '2025-03-17', '2025-03-17 08:30', '2025-03-17T08:30:00Z' or '7d'.

    Raises ValueError naming the accepted forms.
    """
    value = text.strip()
    span = _SPAN_RE.match(value.lower())
    if span:
        return now - dt.timedelta(**{_SPAN_UNITS[span.group(2)]: int(span.group(1))})
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date: use {FORMATS}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def sql_text(value: dt.datetime) -> str:
    """The text form the reporting views use for times ('YYYY-MM-DD HH:MM:SS', UTC)."""
    return value.strftime("%Y-%m-%d %H:%M:%S")
