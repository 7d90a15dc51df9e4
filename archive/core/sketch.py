"""Shingles, MinHash signatures and LSH band keys.

Every knob that changes a signature lives in `SketchConfig`; its string form is stored in the
database beside the signatures, so signatures made with other parameters are never mixed.

Shingle hashes: each token is hashed once with xxh32; a shingle of n tokens is the polynomial
combination of its token hashes modulo 2**32, computed for a whole text at once with numpy.
Signatures are datasketch 2.x MinHash (scheme ``affine32``) over those shingle hashes: the
single-text path calls `MinHash.update_batch`, the batch path applies the same permutations to a
whole batch of texts with numpy; both give identical hash values.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Sequence

import numpy as np
import xxhash


from archive.core import cache
from archive.core.normalize import is_cjk, tokens

_SCHEME = "affine32"
_POLY = np.uint32(0x01000193)  # FNV prime: odd, so the combination is a bijection per position
_MAX = np.uint32(0xFFFFFFFF)
# Shingles per permutation chunk in the batch path: bounds memory to ~ this * num_perm * 4 bytes.
_CHUNK_ROWS = 32768


@dataclasses.dataclass(frozen=True)
class SketchConfig:
    """Parameters of the copy-level fingerprint. Changing any of them invalidates stored signatures."""

    num_perm: int = 128
    seed: int = 1
    cjk_ngram: int = 5
    word_ngram: int = 3
    lsh_threshold: float = 0.4
    scheme: str = _SCHEME
    token_hash: str = "xxh32"

    def __post_init__(self) -> None:
        if self.num_perm < 16 or self.num_perm > 1024:
            raise ValueError(f"num_perm must be between 16 and 1024, got {self.num_perm}")
        if not 1 <= self.cjk_ngram <= 16 or not 1 <= self.word_ngram <= 16:
            raise ValueError("cjk_ngram and word_ngram must be between 1 and 16")
        if not 0.0 < self.lsh_threshold < 1.0:
            raise ValueError(f"lsh_threshold must be in (0, 1), got {self.lsh_threshold}")
        if self.scheme != _SCHEME or self.token_hash != "xxh32":
            raise ValueError("only scheme 'affine32' with xxh32 token hashes is supported")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "SketchConfig":
        return cls(**json.loads(text))

    @functools.cached_property
    def bands(self) -> tuple[int, int]:
        """(b, r) chosen by datasketch for the LSH threshold and num_perm."""
        return self._from_datasketch()[0]

    @functools.cached_property
    def permutations(self) -> np.ndarray:
        """datasketch's permutations for `num_perm`, `seed` and `scheme`: shape (2, num_perm)."""
        return self._from_datasketch()[1]

    def _from_datasketch(self) -> tuple[tuple[int, int], np.ndarray]:
        """Bands and permutations as datasketch makes them, computed once in a child process and
        kept on disk (`archive.core.cache.load_or_build`): importing datasketch loads SciPy, about
        60 MB that a long run's writer would otherwise hold for nothing."""
        from importlib.metadata import version

        digest = hashlib.sha256(f"{self.to_json()} datasketch {version('datasketch')}".encode()).hexdigest()[:16]
        stored = cache.load_or_build(
            f"sketch-{digest}", datasketch_parameters, self.to_json(),
            valid=lambda a: set(a) == {"bands", "permutations"} and a["bands"].shape == (2,)
            and a["permutations"].shape == (2, self.num_perm))
        b, r = (int(v) for v in stored["bands"])
        return (b, r), stored["permutations"]

    def resolve(self) -> "SketchConfig":
        """Compute `bands` and `permutations` now: a copy pickled afterwards (to a worker process)
        carries them, so the worker never imports datasketch and the SciPy it loads (60 MB)."""
        _ = self.bands, self.permutations
        return self


def datasketch_parameters(config_json: str) -> dict[str, np.ndarray]:
    """LSH bands (b, r) and MinHash permutations as datasketch chooses them for a `SketchConfig`."""
    from datasketch import MinHash, MinHashLSH

    config = SketchConfig.from_json(config_json)
    lsh = MinHashLSH(threshold=config.lsh_threshold, num_perm=config.num_perm)
    permutations = MinHash(num_perm=config.num_perm, seed=config.seed, scheme=config.scheme).permutations
    return {"bands": np.array([lsh.b, lsh.r], dtype=np.int64), "permutations": permutations}


@functools.lru_cache(maxsize=1 << 16)  # CJK characters and the common words: a few MB
def _token_hash(token: str) -> int:
    return xxhash.xxh32_intdigest(token.encode("utf-8"))


def token_hashes(toks: Sequence[str]) -> np.ndarray:
    """xxh32 of each token, as uint32."""
    return np.fromiter(map(_token_hash, toks), dtype=np.uint32, count=len(toks))  # no Python frame per token


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch's `affine32` scheme applies it to each hash
    before the permutations (`datasketch.minhash._fmix(values, 32)`; tests check they agree)."""
    with np.errstate(over="ignore"):
        values = values ^ (values >> np.uint32(16))
        values = values * np.uint32(0x85EBCA6B)
        values = values ^ (values >> np.uint32(13))
        values = values * np.uint32(0xC2B2AE35)
        return values ^ (values >> np.uint32(16))


def shingle_hashes_from_tokens(toks: Sequence[str], n: int) -> np.ndarray:
    """Hashes of all n-token shingles (one shingle of all tokens when fewer than n)."""
    th = token_hashes(toks)
    if th.size == 0:
        return th
    if th.size <= n:
        n = th.size
    with np.errstate(over="ignore"):
        out = th[: th.size - n + 1].copy()
        for k in range(1, n):
            out = out * _POLY + th[k : th.size - n + 1 + k]
    return out


def ngram_size(text: str, config: SketchConfig) -> int:
    return config.cjk_ngram if is_cjk(text) else config.word_ngram


def shingle_hashes(text: str, config: SketchConfig) -> np.ndarray:
    """The shingle hashes of a text (with repeats), in order."""
    return shingle_hashes_from_tokens(tokens(text), ngram_size(text, config))


def shingle_set(text: str, config: SketchConfig) -> np.ndarray:
    """The sorted distinct shingle hashes of a text: the set exact similarity is computed on."""
    return np.unique(shingle_hashes(text, config))


def _identity(value):
    return value


def signature(hashes: np.ndarray, config: SketchConfig) -> np.ndarray:
    """MinHash hash values of one shingle-hash array through datasketch."""
    from datasketch import MinHash

    mh = MinHash(
        num_perm=config.num_perm,
        seed=config.seed,
        hashfunc=_identity,
        scheme=config.scheme,
        permutations=config.permutations,
    )
    if hashes.size:
        mh.update_batch(hashes)
    return mh.hashvalues


def signatures_batch(hash_arrays: Sequence[np.ndarray], config: SketchConfig) -> np.ndarray:
    """Signatures of many shingle-hash arrays at once: rows equal `signature(a)` for each `a`.

    Each text's shingles are permuted by all `num_perm` permutations in one (shingles x perms)
    array and reduced along the shingles, contiguous in memory; long texts go in chunks of
    `_CHUNK_ROWS` shingles so memory stays bounded.
    """
    result = np.full((len(hash_arrays), config.num_perm), _MAX, dtype=np.uint32)
    a, b = config.permutations
    with np.errstate(over="ignore"):
        for row, hashes in enumerate(hash_arrays):
            for start in range(0, hashes.size, _CHUNK_ROWS):
                mixed = _fmix32(hashes[start:start + _CHUNK_ROWS].astype(np.uint32, copy=False))
                permuted = np.multiply.outer(mixed, a)
                permuted += b
                np.minimum(result[row], permuted.min(axis=0), out=result[row])
    return result


def signature_bytes(values: np.ndarray) -> bytes:
    return np.asarray(values, dtype="<u4").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


# A shingle set is stored (`articles.shingles`) as a signature is: little-endian uint32 values.
shingles_bytes = signature_bytes
shingles_from_bytes = signature_from_bytes


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    if len(sig_a) != len(sig_b):
        raise ValueError("signatures of different lengths cannot be compared")
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def band_keys(values: np.ndarray, bands: tuple[int, int], level: int) -> list[tuple[int, int]]:
    """(band, key) pairs of a signature: key is a signed 64-bit hash of the band's values.

    `level` (0 copies, 1 events) is mixed into the key so the two indexes never collide.
    """
    b, r = bands
    raw = np.asarray(values, dtype="<u4")
    keys = []
    for band in range(b):
        digest = xxhash.xxh64_intdigest(raw[band * r : (band + 1) * r].tobytes(), seed=level * 1000 + band)
        keys.append((band, digest - (1 << 64) if digest >= (1 << 63) else digest))
    return keys
