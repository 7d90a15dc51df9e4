"""Crawl sources (the configuration file's ``[[sources]]``) and crawls run in a child process.

A crawl always runs in a process of its own (``python -m spiders.run SOURCE``): the Twisted reactor
cannot be restarted inside one process, so the CLI, the scheduler and any long-lived caller start
a child, read its progress lines on stdout and its summary from a JSON file when it ends.

A source is a table of the configuration file::

    [[sources]]
    name = "example-news"          # letters, digits, . _ -
    kind = "site"                  # feed (RSS/Atom), sitemap (XML or news sitemap), site (links)
    urls = ["https://news.example.com/"]
    allow = ['/\\d{4}/\\d{2}/']     # site: follow only links matching one of these (regexes)
    deny = ['/tag/', '/video/']    # never follow links matching these
    articles = ['/\\d{4}/\\d{2}/']  # archive only pages matching these (default: every page but the start ones)
    depth = 2                      # site: link depth from the start pages
    domains = ["example-cdn.com"]  # other domains links may go to (default: the hosts of urls)
    follow_offsite = false         # true: follow links to any domain
    download_delay = 1.0           # seconds between requests to one site (AutoThrottle adapts above it)
    concurrency = 2                # simultaneous requests per site
    encoding = "gb18030"           # encoding hint for pages that do not declare theirs correctly
    scrapy = { DOWNLOAD_TIMEOUT = 20 }  # any other Scrapy setting, for this source only
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.config import Settings, child_environment
from archive.errors import ConfigError, NotFound
from archive.urls import is_web_url

KINDS = ("feed", "sitemap", "site")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$")
_LIST_FIELDS = ("urls", "allow", "deny", "articles", "domains")


@dataclasses.dataclass(frozen=True)
class CrawlSource:
    """One declared source; built by `parse_source`, which checks every field."""

    name: str
    kind: str
    urls: tuple[str, ...]
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    depth: int = 2
    domains: tuple[str, ...] = ()
    follow_offsite: bool = False
    download_delay: float | None = None
    concurrency: int | None = None
    encoding: str | None = None
    scrapy: dict[str, Any] = dataclasses.field(default_factory=dict, hash=False, compare=False)

    @property
    def allowed_domains(self) -> list[str]:
        """Hosts links may lead to; empty when the source follows links anywhere."""
        if self.follow_offsite:
            return []
        hosts = {urlsplit(u).hostname for u in self.urls} | set(self.domains)
        return sorted(h for h in hosts if h)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{field} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def parse_source(data: dict[str, Any], position: int = 1) -> CrawlSource:
    """A source from its configuration table; ConfigError naming the source and the problem."""
    label = f"[[sources]] #{position}" + (f" ({data['name']})" if isinstance(data.get("name"), str) else "")
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: a source must be a table")
    known = {f.name for f in dataclasses.fields(CrawlSource)}
    unknown = sorted(set(data) - known)
    try:
        if unknown:
            raise ValueError(f"unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        values = dict(data)
        for key in ("name", "kind", "urls"):
            if key not in values:
                raise ValueError(f"{key} is required")
        if not isinstance(values["name"], str) or not _NAME_RE.match(values["name"]):
            raise ValueError("name must be letters, digits, '.', '_' or '-' (at most 200)")
        if values["kind"] not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {values['kind']!r}")
        for key in _LIST_FIELDS:
            if key in values:
                values[key] = _strings(values[key], key)
        if not values["urls"]:
            raise ValueError("urls must name at least one URL")
        for url in values["urls"]:
            if not is_web_url(url) or not urlsplit(url).hostname:
                raise ValueError(f"{url!r} is not an http or https URL")
        for key in ("allow", "deny", "articles"):
            for pattern in values.get(key, ()):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{key} pattern {pattern!r} is not a regular expression: {exc}") from None
        _check_number(values, "depth", int, 0)
        _check_number(values, "download_delay", (int, float), 0)
        _check_number(values, "concurrency", int, 1)
        if "follow_offsite" in values and not isinstance(values["follow_offsite"], bool):
            raise ValueError("follow_offsite must be true or false")
        if "encoding" in values:
            _check_encoding(values["encoding"])
        if "scrapy" in values and not isinstance(values["scrapy"], dict):
            raise ValueError("scrapy must be a table of Scrapy settings")
    except ValueError as exc:
        raise ConfigError(f"{label} in the configuration file: {exc}") from None
    return CrawlSource(**values)


def _check_number(values: dict[str, Any], key: str, types, minimum: float) -> None:
    if key in values:
        value = values[key]
        if isinstance(value, bool) or not isinstance(value, types) or value < minimum:
            raise ValueError(f"{key} must be a number of at least {minimum}, not {value!r}")


def _check_encoding(name: Any) -> None:
    import codecs

    try:
        codecs.lookup(name)
    except (LookupError, TypeError):
        raise ValueError(f"encoding {name!r} is not a known text encoding") from None


def parse_sources(tables: Sequence[dict[str, Any]]) -> list[CrawlSource]:
    sources = [parse_source(t, i) for i, t in enumerate(tables, 1)]
    seen: set[str] = set()
    for s in sources:
        if s.name in seen:
            raise ConfigError(f"[[sources]]: the name {s.name!r} is declared twice in the configuration file")
        seen.add(s.name)
    return sources


def find_source(settings: Settings, name: str) -> CrawlSource:
    sources = parse_sources(settings.sources)
    for s in sources:
        if s.name == name:
            return s
    where = settings.config_path or "the configuration file (none found: set ARCHIVE_CONFIG or create ./archive.toml)"
    declared = ", ".join(s.name for s in sources) or "none"
    raise NotFound(f"unknown crawl source {name!r}: {where} declares {declared}")


# -- the crawl summary ---------------------------------------------------------------------------


@dataclasses.dataclass
class CrawlSummary:
    """What one crawl did; `archive crawl --json` prints `as_dict()`."""

    source: str
    status: str = "failed"  # ok, failed or interrupted
    run_id: int | None = None
    pages_fetched: int = 0  # responses with a body (robots.txt not counted)
    not_modified: int = 0  # 304 answers to conditional requests
    new: int = 0
    copies: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: int = 0  # requests that failed: HTTP errors after retries, timeouts, refused connections
    skipped: int = 0  # already archived: not requested again
    disallowed: int = 0  # forbidden by robots.txt
    finish_reason: str | None = None
    error: str | None = None
    error_samples: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    rejections: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CrawlSummary":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


ProgressCallback = Callable[[dict[str, Any]], None]


# -- the child process ---------------------------------------------------------------------------


def crawl_command(source: str, summary_path: Path, log_level: str = "WARNING") -> list[str]:
    return [sys.executable, "-m", "spiders.run", source, "--summary", str(summary_path),
            "--progress", "--log-level", log_level]


def run_crawl(settings: Settings, source: CrawlSource, progress: ProgressCallback | None = None,
              log_level: str = "WARNING", show_log: bool = False) -> CrawlSummary:
    """Crawl one source in a child process and return its summary (never raises for a failed crawl).

    The child's log goes to this process's stderr when `show_log`, else to a temporary file whose
    last lines become the summary's error when the crawl fails.
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="archive-crawl-") as tmp:
        summary_path = Path(tmp) / "summary.json"
        log_path = Path(tmp) / "crawl.log"
        with log_path.open("w") as log:
            # A session of its own: a Ctrl-C or SIGTERM reaches the crawl once, through this process,
            # and the crawl stops gracefully (a second one stops it at once).
            proc = subprocess.Popen(
                crawl_command(source.name, summary_path, log_level), stdout=subprocess.PIPE,
                stderr=None if show_log else log, text=True, env=child_environment(settings),
                start_new_session=True,
            )
            try:
                with _forwarding_signals(proc):
                    for line in proc.stdout:
                        _progress_line(line, progress)
                    returncode = proc.wait()
            except BaseException:  # the caller's own failure: no crawl is left running behind it
                proc.kill()
                proc.wait()
                raise
        summary = _read_summary(summary_path)
        if summary is None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            summary = CrawlSummary(source=source.name, status="failed",
                                   error=f"the crawler process exited with status {returncode}"
                                         + (": " + " | ".join(tail) if tail else ""))
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


@contextlib.contextmanager
def _forwarding_signals(proc: subprocess.Popen) -> Iterator[None]:
    """SIGINT and SIGTERM to this process are passed on to the crawl, which stops cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    def forward(signum, _frame) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _progress_line(line: str, progress: ProgressCallback | None) -> None:
    try:
        data = json.loads(line)
    except ValueError:
        return  # not a progress line (something the crawl printed)
    if progress and isinstance(data, dict) and isinstance(data.get("progress"), dict):
        progress(data["progress"])


def _read_summary(path: Path) -> CrawlSummary | None:
    try:
        return CrawlSummary.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
