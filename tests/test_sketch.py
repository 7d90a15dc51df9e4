"""Signatures: deterministic, batch path equal to datasketch's single path, band keys stable."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.core import sketch
from archive.core.normalize import canonical_text, fold, tokens

CFG = sketch.SketchConfig()


def test_batch_equals_single_path():
    texts = ["莞港产业合作交流会达成签约项目33宗", "The pirates were about to board a vessel", "", "短", "a b"]
    arrays = [sketch.shingle_hashes(t, CFG) for t in texts]
    batch = sketch.signatures_batch(arrays, CFG)
    for row, arr in zip(batch, arrays):
        assert np.array_equal(row, sketch.signature(arr, CFG))


def test_signature_is_datasketch_minhash():
    arr = sketch.shingle_hashes("东莞香港国际空港中心作为全球首个直达机场空侧的跨境海空联运项目", CFG)
    mh = MinHash(num_perm=CFG.num_perm, seed=CFG.seed, scheme="affine32", hashfunc=lambda v: v)
    for value in arr:
        mh.update(int(value))
    assert np.array_equal(mh.hashvalues, sketch.signature(arr, CFG))


def test_pinned_values():
    # Pinned so that a change of hashing (which would orphan every stored signature) fails here.
    arr = sketch.shingle_hashes("The quick brown fox jumps", CFG)
    assert arr.tolist() == sketch.shingle_hashes("THE  quick, brown fox — jumps!", CFG).tolist()
    assert len(arr) == 3
    keys = sketch.band_keys(sketch.signature(arr, CFG), CFG.bands, level=0)
    assert len(keys) == CFG.bands[0] == 32 and CFG.bands[1] == 4
    assert keys == sketch.band_keys(sketch.signature(arr.copy(), CFG), CFG.bands, level=0)


def test_width_and_script_folding():
    assert tokens("ＡＢＣ，１２３") == tokens("abc,123")
    assert canonical_text("東莞與香港") == canonical_text("东莞与香港")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_fold_is_idempotent(text):
    assert fold(fold(text)) == fold(text)
    assert tokens(canonical_text(text)) == tokens(text)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=80), min_size=1, max_size=6))
def test_signature_roundtrip_bytes(texts):
    arrays = [sketch.shingle_hashes(t, CFG) for t in texts]
    for sig in sketch.signatures_batch(arrays, CFG):
        assert np.array_equal(sketch.signature_from_bytes(sketch.signature_bytes(sig)), sig)
