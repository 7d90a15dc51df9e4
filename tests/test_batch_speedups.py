"""The fast paths give the results of the straightforward ones they replace."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

from archive.core import events, sketch
from archive.core.normalize import _CJK_RE, cjk_share
from tests.conftest import SEEDS

def test_chinese_terms_are_jieba_words_with_names():
    """The seeds segment as jieba's accurate mode does: the meeting, the places and the unknown
    names (found by the HMM) are terms; single characters and punctuation are not."""
    terms = set()
    for path in sorted(SEEDS.glob("*.txt")):
        terms |= set(events.terms(path.read_text("utf-8")))
    assert {"东莞", "香港", "交流会", "刘光滨", "2025"} <= terms
    assert not any(len(t) < 2 or not any(c.isalnum() for c in t) for t in terms)


def test_chinese_terms_ignore_script_and_width():
    simplified = "莞港产业合作交流会达成签约项目33宗，投资贸易合作总额达184.7亿元"
    traditional = "莞港產業合作交流會達成簽約項目３３宗，投資貿易合作總額達１８４.７億元"
    assert events.terms(traditional) == events.terms(simplified)


def test_unknown_chinese_words_weigh_the_most():
    assert events.idf("刘光滨", "zh") == 9.0
    assert events.idf("东莞", "zh") < events.idf("交流会", "zh") < 9.0
    assert events.idf("合作", "zh") < 4.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_cjk_share_counts_like_isalnum(text):
    letters = [c for c in text if c.isalnum()]
    expected = len(_CJK_RE.findall(text)) / len(letters) if letters else 0.0
    assert cjk_share(text) == expected


def test_long_text_signature_in_chunks_equals_datasketch():
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**32, size=sketch._CHUNK_ROWS * 2 + 17, dtype=np.uint32)
    cfg = sketch.SketchConfig()
    short = hashes[:50]
    batch = sketch.signatures_batch([hashes, np.array([], dtype=np.uint32), short], cfg)
    assert np.array_equal(batch[0], sketch.signature(hashes, cfg))
    assert np.array_equal(batch[1], sketch.signature(np.array([], dtype=np.uint32), cfg))
    assert np.array_equal(batch[2], sketch.signature(short, cfg))


def test_compact_frequency_tables_equal_wordfreq():
    """English against wordfreq's own lookup (numbers included); Chinese against its list (its
    lookup would need Python jieba, which the archive does not install)."""
    import math

    from wordfreq import get_frequency_dict, zipf_frequency

    from archive.core import frequencies

    english = ["the", "harbour", "pirates", "kelmorvin", "2024", "33", "184", "1.5", "covid19", "x"]
    assert frequencies.ZipfTable("en").zipf(english) == pytest.approx(
        [zipf_frequency(w, "en") for w in english], abs=0.011)
    chinese = ["东莞", "交流会", "合作", "的", "刘光滨"]
    listed = get_frequency_dict("zh")
    expected = [math.log10(listed[w]) + 9 if w in listed else 0.0 for w in chinese]
    assert frequencies.ZipfTable("zh").zipf(chinese) == pytest.approx(expected, abs=0.011)
    assert expected[-1] == 0.0 and min(expected[:-1]) > 3


def test_remembered_zipf_values_equal_fresh_lookups_and_stay_bounded(monkeypatch):
    from archive.core import frequencies

    monkeypatch.setattr(frequencies, "SEEN_LIMIT", 8)
    table = frequencies.ZipfTable("en")
    words = ["the", "harbour", "2024", "kelmorvin", "the", "pirates", "33", "harbour"]
    fresh = table._zipf_uncached(words)
    assert table.zipf(words) == fresh
    assert table.zipf(words) == fresh  # now answered from memory
    more = [f"word{i}" for i in range(20)] + ["harbour"]
    assert table.zipf(more) == table._zipf_uncached(more)
    assert len(table._seen) <= 21 and table.zipf(words) == fresh and len(table._seen) <= 8


def test_the_c_stemmer_gives_the_pure_python_stems():
    """Stored event vectors hold stems: they must not depend on whether PyStemmer (the C build
    snowballstemmer prefers) is installed."""
    from snowballstemmer.english_stemmer import EnglishStemmer
    from wordfreq import top_n_list

    words = [w for w in top_n_list("en", 20000) if w.isascii() and w.isalpha()]
    pure = EnglishStemmer()
    assert [events.stem(w) for w in words] == [pure.stemWord(w) for w in words]
    assert type(events._snowball()).__module__ == "Stemmer"


def test_frequency_tables_are_cached_once_built_and_rebuilt_when_unreadable(tmp_path, monkeypatch):
    from archive.core import frequencies

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    built = frequencies.ZipfTable("en", use_cache=False)
    first = frequencies.ZipfTable("en")  # builds and stores
    from archive.core import cache

    stored = cache.path_of(frequencies._cache_name("en"))
    assert stored.parent == tmp_path / "news-archive" and stored.is_file()
    loaded = frequencies.ZipfTable("en")  # from the file
    for table in (first, loaded):
        assert np.array_equal(table.keys, built.keys) and np.array_equal(table.values, built.values)
    stored.write_bytes(b"not a table")
    again = frequencies.ZipfTable("en")
    assert np.array_equal(again.keys, built.keys)
    assert cache.load_arrays(frequencies._cache_name("en")) is not None  # written anew
    assert not list(stored.parent.glob("*.tmp"))


def test_a_process_on_a_fresh_machine_builds_its_tables_without_importing_their_libraries(tmp_path):
    """The first call builds the LSH bands and a word table in a child process: the caller never
    imports datasketch (and SciPy) or holds wordfreq's lists, and gets the same arrays."""
    probe = (
        "import sys\n"
        "from archive.core import frequencies, sketch\n"
        "config = sketch.SketchConfig(num_perm=64, lsh_threshold=0.5)\n"
        "table = frequencies.ZipfTable('en')\n"
        "print(config.bands, int(config.permutations.sum() % 1000003), int(table.keys.size),\n"
        "      [m for m in ('datasketch', 'scipy', 'wordfreq') if m in sys.modules])\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.rstrip().endswith("[]"), first.stdout + first.stderr
    assert len(list((tmp_path / "cache" / "news-archive").glob("*.npz"))) == 2
    again = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert again.stdout == first.stdout
    from datasketch import MinHash, MinHashLSH

    from archive.core import frequencies

    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    permutations = MinHash(num_perm=64, seed=1, scheme=sketch.SketchConfig().scheme).permutations
    built = frequencies.ZipfTable("en", use_cache=False)
    assert first.stdout.startswith(
        f"({lsh.b}, {lsh.r}) {int(permutations.sum() % 1000003)} {int(built.keys.size)} ")


def test_tables_are_built_in_the_process_itself_when_the_cache_cannot_be_written(tmp_path, monkeypatch):
    from archive.core import cache, frequencies

    blocker = tmp_path / "a-file"
    blocker.write_text("the cache directory cannot be made under a file")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    config = sketch.SketchConfig(num_perm=64, lsh_threshold=0.5)
    from datasketch import MinHashLSH

    assert config.bands == (MinHashLSH(threshold=0.5, num_perm=64).b, MinHashLSH(threshold=0.5, num_perm=64).r)
    table = frequencies.ZipfTable("en")
    assert np.array_equal(table.keys, frequencies.ZipfTable("en", use_cache=False).keys)
    assert not cache.cache_dir().exists()


def test_lsh_bands_and_permutations_come_from_datasketch_then_from_the_cache(tmp_path, monkeypatch):
    from datasketch import MinHash, MinHashLSH

    from archive.core import cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    config = sketch.SketchConfig(num_perm=64, lsh_threshold=0.5)
    assert not list(cache.cache_dir().glob("sketch-*"))
    computed = config._from_datasketch()
    assert len(list(cache.cache_dir().glob("sketch-*.npz"))) == 1
    loaded = sketch.SketchConfig(num_perm=64, lsh_threshold=0.5)._from_datasketch()
    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    expected = MinHash(num_perm=64, seed=1, scheme=config.scheme).permutations
    for bands, permutations in (computed, loaded):
        assert bands == (lsh.b, lsh.r)
        assert permutations.dtype == expected.dtype and np.array_equal(permutations, expected)
    other = sketch.SketchConfig(num_perm=64, lsh_threshold=0.7)._from_datasketch()
    assert other[0] == (MinHashLSH(threshold=0.7, num_perm=64).b, MinHashLSH(threshold=0.7, num_perm=64).r)


def test_heaviest_terms_are_the_plain_sort_of_every_term():
    """The selection before the sort keeps what sorting every (term, weight) pair would keep,
    ties at the cut included (equal weights are common: unknown words of one frequency)."""
    rnd = random.Random(5)
    for _ in range(300):
        size = rnd.randint(0, 150)
        weights = {f"t{rnd.randint(0, 10_000)}": rnd.choice([9.0, 7.5, 3.25, rnd.uniform(3.5, 20.0)])
                   for _ in range(size)}
        limit = rnd.randint(1, 80)
        plain = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        assert events._heaviest(weights, limit) == plain
