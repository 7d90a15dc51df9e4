"""Derived tables kept on disk between processes: computed once, then loaded as numpy arrays.

Some inputs of the core are derived from libraries at a cost in memory that a process never gets
back (wordfreq's word lists as Python strings; SciPy, which datasketch imports to choose LSH
bands). What they produce is small, so it is written under `cache_dir()` the first time and
read from there after. Each name carries what its content depends on (library versions,
parameters); an absent, unreadable or foreign file is computed again, and a cache that cannot
be written is simply skipped.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/news-archive (~/.cache/news-archive)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "news-archive"


def path_of(name: str) -> Path:
    return cache_dir() / f"{name}.npz"


def load_arrays(name: str) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path_of(name)) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, KeyError, ValueError, EOFError):
        return None


def store_arrays(name: str, **arrays: np.ndarray) -> None:
    """Write the arrays whole or not at all (a temporary file renamed), whatever runs meanwhile."""
    path = path_of(name)
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz.tmp", delete=False) as fh:
            partial = fh.name
            np.savez(fh, **arrays)
        os.replace(partial, path)
    except OSError:
        if partial:
            with contextlib.suppress(OSError):
                os.unlink(partial)
