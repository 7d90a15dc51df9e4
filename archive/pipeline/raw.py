"""How an input's raw bytes are kept: zstd-compressed past a small size, so they can be audited
and re-extracted later. Compressing is CPU work of the preparing workers, not of the writer."""

from __future__ import annotations

import functools

import zstandard

_SMALL = 512  # below this, compression saves too little to be worth a frame


@functools.cache
def _compressor() -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(level=3)


def compress(content: bytes) -> tuple[bytes, str]:
    """(stored bytes, compression name) of raw content."""
    if len(content) < _SMALL:
        return content, "none"
    return _compressor().compress(content), "zstd"


def decompress(content: bytes, compression: str) -> bytes:
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompress(content)
    return content
