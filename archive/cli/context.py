"""The archive a command works on, opened once per command."""

from __future__ import annotations

import functools

from archive.api import Archive


@functools.cache
def open_archive() -> Archive:
    return Archive()
