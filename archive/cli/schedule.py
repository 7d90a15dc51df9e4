"""`archive scheduler run`, `archive schedule ...` and `archive runs`: unattended runs and their history."""

from __future__ import annotations

import logging
import signal
import threading

import click
from rich import box
from rich.table import Table

from archive.cli import cli
from archive.cli.context import open_archive
from archive.cli.output import console, json_option, print_json, print_table
from archive.locks import DEFAULT_TTL_SECONDS
from archive.scheduler import DEFAULT_POLL_SECONDS, DEFAULT_THREADS, Schedules, run_scheduler

SCHEDULE_COLUMNS = [("name", "name"), ("kind", "kind"), ("target", "target"), ("trigger", "when"),
                    ("next_run_short", "next run"), ("last_run_short", "last run"), ("last_status", "last")]
RUN_COLUMNS = [("id", "run"), ("what", "job"), ("started", "started"), ("secs", "secs"),
               ("status", "status"), ("new", "new"), ("copies", "copies"), ("events_touched", "events"),
               ("rejected", "rejected")]


def _schedules() -> Schedules:
    return Schedules(open_archive())


@cli.group()
def scheduler() -> None:
    """The long-lived scheduler process that runs the schedules.

    \b
    Example:
      archive scheduler run
    """


@scheduler.command("run")
@click.option("--poll", type=click.FloatRange(min=0.1), default=DEFAULT_POLL_SECONDS, show_default=True,
              help="Seconds between looks at the schedules (changes by other processes show up within one).")
@click.option("--lock-ttl", type=click.FloatRange(min=1), default=DEFAULT_TTL_SECONDS, show_default=True,
              help="Seconds after which the job lock of a vanished scheduler expires (SQLite).")
@click.option("--threads", type=click.IntRange(min=1), default=DEFAULT_THREADS, show_default=True,
              help="Jobs that may run at the same time.")
def scheduler_run(poll: float, lock_ttl: float, threads: int) -> None:
    """Run the schedules in the foreground until SIGTERM or Ctrl-C.

    Each job's start, end and summary are logged. On SIGTERM or Ctrl-C the runs in flight finish
    and commit their current batch of articles, no new job starts, and the command exits 0.

    \b
    Example:
      archive schedule add news --load ~/incoming --every 10m
      archive scheduler run
    """
    for name in ("archive.scheduler", "archive.jobs", "archive.locks"):
        logging.getLogger(name).setLevel(min(logging.INFO, logging.getLogger().level or logging.INFO))
    logging.getLogger().handlers[0].setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    stop = threading.Event()

    def request_stop(signum, _frame) -> None:
        logging.getLogger("archive.scheduler").info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run_scheduler(open_archive(), stop, poll=poll, lock_ttl=lock_ttl, threads=threads)


@cli.group()
def schedule() -> None:
    """Schedules of load and crawl jobs, stored in the archive database.

    \b
    Example:
      archive schedule add inbox --load ./incoming --every 15m
      archive schedule list
    """


@schedule.command("add")
@click.argument("name")
@click.option("--crawl", "source", metavar="SOURCE", help="Crawl this source (`archive crawl SOURCE`).")
@click.option("--load", "path", metavar="PATH_OR_GLOB", help="Ingest new or changed files under this folder or glob.")
@click.option("--every", metavar="N[s|m|h|d]", help="Run at this interval, e.g. 30m.")
@click.option("--cron", metavar="EXPR", help='Run on a crontab expression, e.g. "*/15 * * * *".')
@click.option("--now", is_flag=True, help="Make the first run due at once instead of one interval from now.")
@json_option
def schedule_add(name: str, source: str | None, path: str | None, every: str | None, cron: str | None,
                 now: bool, as_json: bool) -> None:
    """Add a schedule: a load job (--load) or a crawl job (--crawl), --every or --cron.

    A load job ingests only files it has not loaded before (by content hash: a renamed file is
    not new). The first run is one interval (or the next cron time) from now, or at once with --now.

    \b
    Examples:
      archive schedule add inbox --load ./incoming --every 30m
      archive schedule add dumps --load '/data/dumps/**/*.jsonl.gz' --cron "0 3 * * *"
      archive schedule add example --crawl example --every 1h
    """
    if bool(source) == bool(path):
        raise click.UsageError("give exactly one of --crawl SOURCE or --load PATH_OR_GLOB")
    row = _schedules().add(name, "crawl" if source else "load", source or path, every=every, cron=cron, now=now)
    _show([row], as_json, f"Added schedule {name}")


@schedule.command("list")
@json_option
def schedule_list(as_json: bool) -> None:
    """List the schedules with their next run, last run and last status.

    \b
    Example:
      archive schedule list --json
    """
    _show(_schedules().list(), as_json, "Schedules")


@schedule.command("pause")
@click.argument("name")
@json_option
def schedule_pause(name: str, as_json: bool) -> None:
    """Pause a schedule: it does not run until resumed.

    \b
    Example:
      archive schedule pause inbox
    """
    _show([_schedules().pause(name)], as_json, f"Paused {name}")


@schedule.command("resume")
@click.argument("name")
@json_option
def schedule_resume(name: str, as_json: bool) -> None:
    """Resume a paused schedule from its next slot.

    \b
    Example:
      archive schedule resume inbox
    """
    _show([_schedules().resume(name)], as_json, f"Resumed {name}")


@schedule.command("remove")
@click.argument("name")
def schedule_remove(name: str) -> None:
    """Remove a schedule (its past runs stay in `archive runs`).

    \b
    Example:
      archive schedule remove inbox
    """
    _schedules().remove(name)
    console.print(f"removed schedule [bold]{name}[/]")


@schedule.command("run-now")
@click.argument("name")
@json_option
def schedule_run_now(name: str, as_json: bool) -> None:
    """Run a schedule's job once, now, in this process (under the same lock as the scheduler).

    \b
    Example:
      archive schedule run-now inbox
    """
    summary = _schedules().run_now(name)
    if summary is None:
        raise click.ClickException(f"{name} is running in another process right now; try again later")
    if as_json:
        print_json(summary.as_dict())
    else:
        print_table([summary.as_dict()], [("run_id", "run"), ("status", "status"), ("read", "read"),
                                           ("new", "new"), ("copies", "copies"), ("duplicates", "duplicates"),
                                           ("rejected", "rejected")], title=f"Run of {name}")
        if summary.error:
            console.print(f"error: {summary.error}", highlight=False, soft_wrap=True)
    if summary.status == "failed":
        raise SystemExit(1)


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many runs.")
@click.option("--job", "job_name", help="Only the runs of this schedule.")
@json_option
def runs(limit: int, job_name: str | None, as_json: bool) -> None:
    """The history of runs (ingest, crawl, scheduled), newest first: counts, duration, status, error.

    \b
    Example:
      archive runs --limit 5 --json
    """
    archive = open_archive()
    archive.require_schema()
    rows = archive.runs(limit=limit, job_name=job_name)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["what"] = row["job_name"] or row["kind"]
        row["started"] = row["started_at"][5:]  # the year is in --json
        row["secs"] = f"{row['duration_s']:.1f}" if row["duration_s"] is not None else None
    _compact_table(rows, RUN_COLUMNS, f"Runs in {archive.url} (times in UTC)")
    for row in rows:  # errors under the table, where they have the whole width
        if row["error"]:
            console.print(f"run {row['id']} ({row['what']}): {row['error'].strip().splitlines()[-1]}",
                          highlight=False, soft_wrap=True)


def _show(rows: list[dict], as_json: bool, title: str) -> None:
    if as_json:
        print_json(rows)
        return
    for row in rows:
        for key in ("next_run", "last_run"):
            row[key + "_short"] = row[key][5:19] if row[key] else ("paused" if key == "next_run" else None)
    _compact_table(rows, SCHEDULE_COLUMNS, f"{title} (times in UTC)", fold="target")
    for row in rows:
        if row["last_status"] == "failed" and row["last_error"]:
            console.print(f"{row['name']}: {row['last_error'].strip().splitlines()[-1]}", highlight=False,
                          soft_wrap=True)


def _compact_table(rows: list[dict], columns: list[tuple[str, str]], title: str, fold: str | None = None) -> None:
    """A table that fits 80 columns: light borders, and only the `fold` column wraps."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for key, header in columns:
        table.add_column(header, no_wrap=key != fold, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(key) is None else str(row[key]) for key, _ in columns))
    console.print(table)
