"""Derived tables kept on disk between processes: computed once, then loaded as numpy arrays.

Some inputs of the core are derived from libraries at a cost in memory that a process never gets
back (wordfreq's word lists as Python strings; SciPy, which datasketch imports to choose LSH
bands). What they produce is small, so it is written under `cache_dir()` the first time and
read from there after. Each name carries what its content depends on (library versions,
parameters); an absent, unreadable or foreign file is computed again, and a cache that cannot
be written is simply skipped.

`load_or_build` computes a missing table in a short-lived child process, so even the first run on
a fresh machine never holds those libraries in its long-lived processes (the writer of a
1,000,000-article ingest carried SciPy's 60 MB to the end when its first call imported
datasketch); where the child cannot run or the cache cannot be written, the table is computed in
the calling process, as before.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
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


_BUILD_TIMEOUT_S = 600


def load_or_build(name: str, builder: Callable[..., dict[str, np.ndarray]], *args: str,
                  valid: Callable[[dict[str, np.ndarray]], bool] = bool) -> dict[str, np.ndarray]:
    """The arrays stored under `name` when `valid`; otherwise `builder(*args)` (a module-level
    function of string arguments) runs in a child process that stores them, and they are loaded
    from there; when that fails too, it runs here and its result is stored if the cache can be."""
    stored = load_arrays(name)
    if stored is not None and valid(stored):
        return stored
    _build_in_child(name, builder, args)
    stored = load_arrays(name)
    if stored is not None and valid(stored):
        return stored
    arrays = builder(*args)
    store_arrays(name, **arrays)
    return arrays


def _build_in_child(name: str, builder: Callable, args: tuple[str, ...]) -> None:
    package_root = str(Path(__file__).resolve().parents[2])  # where `archive` imports from here
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", __name__, name, f"{builder.__module__}:{builder.__qualname__}", *args]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=_BUILD_TIMEOUT_S, check=False)


def _main(argv: list[str]) -> int:
    """`python -m archive.core.cache NAME MODULE:FUNCTION [ARG...]`: build one table and store it."""
    name, target, *args = argv
    module, function = target.split(":")
    store_arrays(name, **getattr(importlib.import_module(module), function)(*args))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
