"""The `archive` command: thin commands over `archive.api.Archive`.

Errors from the library (`ArchiveError`) are printed as one line and exit with status 2.
"""

from __future__ import annotations

import logging
import sys

import click

from sqlalchemy.exc import DBAPIError

from archive import logmask
from archive.db.engine import describe_database_error
from archive.errors import ArchiveError


class ArchiveGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ArchiveError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except DBAPIError as exc:  # the database went away or refused: one line, password masked
            click.echo(f"error: {describe_database_error(exc, _database_url())}", err=True)
            sys.exit(2)


def _database_url() -> str:
    from archive.config import load_settings

    try:
        return load_settings().database_url
    except ArchiveError:
        return "(unknown)"


@click.group(cls=ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="news-archive")
def cli(verbose: int) -> None:
    """A deduplicating news archive: reprints linked to originals, write-ups grouped into events.

    \b
    Example:
      archive db upgrade && archive ingest seeds/ && archive clusters --kind event
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logmask.install()
    if verbose < 1:
        logging.getLogger("archive.pipeline.ingest").setLevel(logging.ERROR)


def main() -> None:
    cli(prog_name="archive")


def _register_commands() -> None:
    """Import every module of this package: each registers its commands on `cli` when imported."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name not in ("output", "context"):
            importlib.import_module(f"{__name__}.{module.name}")


_register_commands()
