"""`archive db ...`: the schema."""

from __future__ import annotations


from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console
from archive.db import migrate


@cli.group()
def db() -> None:
    """The archive database: create, upgrade.

    \b
    Example:
      ARCHIVE_DATABASE_URL=postgresql://user@host/news archive db upgrade
    """


@db.command()
def upgrade() -> None:
    """Create the schema, or upgrade it to this version, through Alembic migrations.

    \b
    Example:
      archive db upgrade
    """
    archive = open_archive()
    current, head = migrate.current_revision(archive.engine), migrate.head_revision(archive.settings.database_url)
    if current == head:
        revision = current
    else:
        what = "creating the schema" if current is None else f"upgrading the schema from {current} to {head}"
        # Some upgrades rebuild a table (0005: band_keys on SQLite), minutes on a large archive.
        with console.status(f"{what} in {archive.url} (a table rebuild takes minutes on a large archive)"):
            revision = archive.upgrade()
    console.print(f"schema at revision [bold]{revision}[/] in {archive.url}")
