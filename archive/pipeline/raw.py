"""How an input's raw bytes are kept: zstd-compressed past a small size, so they can be audited
and re-extracted later. Compressing is CPU work of the preparing workers, not of the writer."""

from __future__ import annotations

import threading

import zstandard

_SMALL = 512  # below this, compression saves too little to be worth a frame
_per_thread = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor. A ZstdCompressor must not be used by two threads at once: scheduled
    jobs run in threads, and two of them compressing through one shared compressor stored
    corrupt frames and crashed the process (tests/test_raw_threads.py)."""
    compressor = getattr(_per_thread, "compressor", None)
    if compressor is None:
        compressor = _per_thread.compressor = zstandard.ZstdCompressor(level=3)
    return compressor


def compress(content: bytes) -> tuple[bytes, str]:
    """(stored bytes, compression name) of raw content."""
    if len(content) < _SMALL:
        return content, "none"
    return _compressor().compress(content), "zstd"


def decompress(content: bytes, compression: str) -> bytes:
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompress(content)
    return content
