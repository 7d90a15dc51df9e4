"""Parameter types shared by commands: user times, errors as one line (an ArchiveError)."""

from __future__ import annotations

import datetime as dt

import click

from archive.core.when import parse_when
from archive.db.models import utcnow
from archive.errors import BadInput


class When(click.ParamType):
    """A date, a datetime or a span back from now (7d, 24h, 2w), as naive UTC."""

    name = "when"

    def convert(self, value, param, ctx) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return parse_when(value, utcnow())
        except ValueError as exc:
            # An ArchiveError, not click's usage error: one line on stderr and exit status 2.
            raise BadInput(f"{param.opts[0] if param else 'date'}: {exc}") from None


WHEN = When()


def since_option(f):
    return click.option("--since", type=WHEN, help="From this time: 2025-03-17, '2025-03-17 08:00' or 7d.")(f)


def until_option(f):
    return click.option("--until", type=WHEN, help="Up to this time (same forms as --since).")(f)
