"""One settings object, built once from the configuration file and ARCHIVE_* variables.

This is the only module that reads the environment. Precedence: ARCHIVE_* variables, then the
configuration file, then the defaults below.

Configuration file: the path in ARCHIVE_CONFIG, else ``archive.toml`` in the current directory
when it exists. Its tables: ``[archive]`` (database_url, data_dir, batch_size, commit_size, sqlite_cache_mb,
index_recent_articles),
``[matching]`` (thresholds), ``[sketch]`` and ``[event_sketch]`` (fingerprint parameters) and
``[[sources]]`` (crawl sources).

Default database: ``sqlite:///<data_dir>/archive.db`` with data_dir ``./data``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from pathlib import Path
from typing import Any

from archive.core.events import EventConfig
from archive.core.matching import MatchingConfig
from archive.core.sketch import SketchConfig
from archive.errors import ConfigError


COMMIT_SIZE = 1000


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    batch_size: int = 200
    # Articles placed and committed in one transaction by a bulk ingest: consecutive prepared
    # batches are joined up to this many (never fewer than one batch). Larger is faster on a
    # large archive (each index page read and written once for more articles) and holds more
    # memory in the one writer; the workers' batches, and their memory, stay `batch_size`.
    # 1,000 by default: placing 10,000 articles into a 225,000-article archive, the writer alone
    # took 2.4-2.8 CPU ms per article committing 1,000 at a time against 3.1-3.4 committing 500,
    # for about 45 MB more at peak (README, "Memory against speed").
    commit_size: int = COMMIT_SIZE  # 0: the batch size
    # SQLite's page cache per connection, in MB, filled only as pages are read: once a batch's
    # index pages outgrow it they are read twice (to look up, then to insert). A larger cache
    # costs that much more memory in the writer; 256 against 64 MB was within the noise at
    # 300,000 and 700,000 articles (README, Performance).
    sqlite_cache_mb: int = 64
    # Articles whose band keys an SQLite archive holds in the index's recent tier before moving
    # them to the main one in key order (archive.db.bandindex).
    index_recent_articles: int = 50_000
    sketch: SketchConfig = SketchConfig()
    event_sketch: EventConfig = EventConfig()
    matching: MatchingConfig = MatchingConfig()
    sources: tuple[dict[str, Any], ...] = ()
    redis_url: str | None = None
    config_path: Path | None = None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist (set by ARCHIVE_CONFIG)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None


def _section(cls, data: dict[str, Any], name: str):
    try:
        return cls(**data.get(name, {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[{name}] in the configuration file: {exc}") from None


def _whole(env: dict[str, str], main: dict[str, Any], key: str, default: int, least: int) -> int:
    """A whole-number setting of the [archive] table, which ARCHIVE_<KEY> overrides."""
    variable = f"ARCHIVE_{key.upper()}"
    try:
        value = int(env.get(variable) or main.get(key) or default)
    except ValueError:
        raise ConfigError(f"{variable} must be a whole number") from None
    if value < least:
        raise ConfigError(f"{key} must be at least {least}")
    return value


def config_path(env: dict[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    if env.get("ARCHIVE_CONFIG"):
        return Path(env["ARCHIVE_CONFIG"])
    local = Path("archive.toml")
    return local if local.exists() else None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    path = config_path(env)
    data = _read_file(path)
    main = data.get("archive", {})
    data_dir = Path(env.get("ARCHIVE_DATA_DIR") or main.get("data_dir") or "data")
    url = env.get("ARCHIVE_DATABASE_URL") or main.get("database_url")
    if not url:
        url = f"sqlite:///{data_dir / 'archive.db'}"
    batch_size = _whole(env, main, "batch_size", default=200, least=1)
    commit_size = _whole(env, main, "commit_size", default=COMMIT_SIZE, least=0)  # 0: the batch size
    sqlite_cache_mb = _whole(env, main, "sqlite_cache_mb", default=64, least=1)
    index_recent_articles = _whole(env, main, "index_recent_articles", default=50_000, least=1)
    return Settings(
        database_url=url,
        data_dir=data_dir,
        batch_size=batch_size,
        commit_size=commit_size,
        sqlite_cache_mb=sqlite_cache_mb,
        index_recent_articles=index_recent_articles,
        sketch=_section(SketchConfig, data, "sketch"),
        event_sketch=_section(EventConfig, data, "event_sketch"),
        matching=_section(MatchingConfig, data, "matching"),
        sources=tuple(data.get("sources", ())),
        redis_url=env.get("ARCHIVE_REDIS_URL") or main.get("redis_url"),
        config_path=path,
    )


def child_environment(settings: Settings, env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus the ARCHIVE_* variables that make a child process (a crawl)
    load the same settings, even when `settings` was not built from the environment."""
    out = dict(os.environ if env is None else env)
    out["ARCHIVE_DATABASE_URL"] = settings.database_url
    out["ARCHIVE_DATA_DIR"] = str(settings.data_dir)
    out["ARCHIVE_BATCH_SIZE"] = str(settings.batch_size)
    out["ARCHIVE_COMMIT_SIZE"] = str(settings.commit_size)
    out["ARCHIVE_SQLITE_CACHE_MB"] = str(settings.sqlite_cache_mb)
    out["ARCHIVE_INDEX_RECENT_ARTICLES"] = str(settings.index_recent_articles)
    if settings.config_path is not None:
        out["ARCHIVE_CONFIG"] = str(Path(settings.config_path).resolve())
    if settings.redis_url:
        out["ARCHIVE_REDIS_URL"] = settings.redis_url
    return out


def write_section(path: Path, section: str, values: dict[str, Any]) -> Path:
    """Set `values` in table [section] of the configuration file, keeping its other content."""
    import tomlkit

    try:
        document = tomlkit.parse(path.read_text("utf-8")) if path.exists() else tomlkit.document()
    except (OSError, tomlkit.exceptions.ParseError) as exc:
        raise ConfigError(f"configuration file {path} cannot be updated: {exc}") from None
    table = document.get(section)
    if table is None:
        table = tomlkit.table()
        document[section] = table
    for key, value in values.items():
        table[key] = value
    path.write_text(tomlkit.dumps(document), "utf-8")
    return path
