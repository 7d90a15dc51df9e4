"""Fixtures: a migrated SQLite file and a migrated PostgreSQL database, both real.

PostgreSQL tests use a database created for this test session and dropped afterwards; each test
starts from empty tables. When no server is reachable they are skipped and the run says so loudly.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from archive.api import Archive
from archive.config import load_settings
from archive.db import migrate
from archive.db.models import Base

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
PG_ADMIN_URL = os.environ.get("ARCHIVE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_pg_problem: str | None = None


def _pg_available() -> bool:
    global _pg_problem
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception as exc:  # any failure to connect means: no server for these tests
        _pg_problem = str(exc).splitlines()[0]
        return False


def pytest_report_header(config):
    if _pg_available():
        return f"PostgreSQL tests: ON ({PG_ADMIN_URL})"
    return f"!!! PostgreSQL tests: SKIPPED, no server reachable at {PG_ADMIN_URL}: {_pg_problem} !!!"


def pytest_terminal_summary(terminalreporter):
    if _pg_problem:
        terminalreporter.write_line(
            f"!!! PostgreSQL was not reachable ({_pg_problem}): every PostgreSQL test was SKIPPED !!!",
            red=True, bold=True,
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "archive.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database():
    if not _pg_available():
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {_pg_problem}")
    name = f"archive_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path, sqlite_template) -> str:
    """A migrated, empty archive database: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "archive.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_database")
    _truncate_pg(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    path = tmp_path / "archive.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def env(db_url, tmp_path, monkeypatch) -> dict[str, str]:
    """Environment pointing the archive (library and CLI) at the test database."""
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", db_url)
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ARCHIVE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return {"ARCHIVE_DATABASE_URL": db_url}


@pytest.fixture
def archive(env):
    from archive.cli.context import open_archive

    open_archive.cache_clear()
    arc = Archive(load_settings())
    yield arc
    arc.close()
    open_archive.cache_clear()
