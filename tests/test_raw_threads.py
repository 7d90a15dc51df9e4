"""Raw bytes compressed by several threads at once (scheduled jobs run in threads) come back intact."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in a child: a compressor shared between threads can crash the whole process.
_SCRIPT = textwrap.dedent("""
    import os, sys, threading
    from archive.pipeline import raw

    data = [os.urandom(2000) + bytes(range(256)) * (40 + i) for i in range(16)]
    bad = []

    def work():
        for _ in range(1000):
            for d in data:
                stored, kind = raw.compress(d)
                if kind != "zstd" or raw.decompress(stored, kind) != d:
                    bad.append(d)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(bad))
""")


def test_threads_compressing_at_once_store_intact_frames():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0", done.stderr[-2000:]
