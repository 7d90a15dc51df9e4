"""Ad-hoc SQL and named reports over the reporting views, always on a read-only connection.

A named report is a file `archive/reports/NAME.sql`: a first comment line that says what it
shows, then one query with :named parameters. The parameters a report may use are `since`,
`until` (text times, as the views hold them) and `limit`; they are always bound, never pasted in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from importlib import resources

from archive.core.when import sql_text
from archive.db import readonly
from archive.db.readonly import QueryResult
from archive.errors import BadInput, NotFound

_PARAM_RE = re.compile(r"(?<![:\w]):(\w+)")
PARAMETERS = ("since", "until", "limit")
DEFAULT_SPAN = dt.timedelta(days=7)
DEFAULT_LIMIT = 20


@dataclasses.dataclass(frozen=True)
class Report:
    name: str
    description: str
    sql: str

    @property
    def parameters(self) -> list[str]:
        return list(dict.fromkeys(_PARAM_RE.findall(self.sql)))


def reports() -> dict[str, Report]:
    """Every named report shipped with the archive, by name."""
    out = {}
    for entry in sorted(resources.files("archive.reports").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql"):
            report = _parse(entry.name.removesuffix(".sql"), entry.read_text("utf-8"))
            out[report.name] = report
    return out


def _parse(name: str, body: str) -> Report:
    lines = body.strip().splitlines()
    description = lines[0].removeprefix("--").strip() if lines and lines[0].startswith("--") else ""
    sql = "\n".join(line for line in lines if not line.lstrip().startswith("--")).strip()
    report = Report(name, description, sql)
    unknown = set(report.parameters) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"report {name} uses unknown parameters {sorted(unknown)}; allowed: {PARAMETERS}")
    return report


def report(name: str) -> Report:
    found = reports().get(name)
    if found is None:
        raise NotFound(f"no report named {name!r}: the reports are {', '.join(reports())}")
    return found


def run_report(url: str, name: str, since: dt.datetime | None = None, until: dt.datetime | None = None,
               limit: int | None = None, now: dt.datetime | None = None) -> QueryResult:
    """Run a named report; `since` defaults to a week before `now`, `until` to no end."""
    chosen = report(name)
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    since = since or now - DEFAULT_SPAN
    values = {
        "since": sql_text(since),
        "until": sql_text(until) if until else "9999-12-31 23:59:59",
        "limit": limit or DEFAULT_LIMIT,
    }
    if until and since > until:
        raise BadInput(f"--since {values['since']} is after --until {values['until']}")
    return readonly.run_bound(url, chosen.sql, {k: values[k] for k in chosen.parameters})


def run_sql(url: str, sql: str) -> QueryResult:
    """Any one statement on a read-only connection: the database itself refuses writes."""
    if not sql.strip():
        raise BadInput("the query is empty")
    return readonly.run_sql(url, sql)
