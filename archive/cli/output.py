"""Output helpers shared by every command: Rich tables for people, JSON or CSV for scripts."""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")(f)


def csv_option(f: Callable) -> Callable:
    return click.option("--csv", "as_csv", is_flag=True, help="Print CSV for scripts instead of a table.")(f)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for _, header in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for key, _ in columns))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str = "table",
               title: str | None = None) -> None:
    """Rows as a Rich table, CSV or JSON (`--format table|csv|json`)."""
    if fmt == "json":
        print_json(list(rows))
    elif fmt == "csv":
        print_csv(rows, columns)
    else:
        print_table(rows, [(c, c) for c in columns], title=title)


def format_option(f: Callable) -> Callable:
    """`--format table|csv|json`, and `--json` as every other command spells it (`--format json`)."""

    @functools.wraps(f)
    def with_format(*args, fmt: str, as_json: bool, **kwargs):
        if as_json:
            if fmt not in ("table", "json"):
                raise click.UsageError(f"--json and --format {fmt} ask for two formats: give one")
            fmt = "json"
        return f(*args, fmt=fmt, **kwargs)

    with_format = click.option("--json", "as_json", is_flag=True, help="JSON for scripts (the same as --format json).")(
        with_format)
    return click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                        show_default=True, help="Table for people, CSV or JSON for scripts.")(with_format)
