"""`archive db ...`: the schema."""

from __future__ import annotations


from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console


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
    revision = archive.upgrade()
    console.print(f"schema at revision [bold]{revision}[/] in {archive.url}")
