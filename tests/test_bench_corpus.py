"""The throughput corpus: a steady mix, and no copies besides the planted reprints."""

import random

from benchmarks.corpus import Text, generate


def _texts(n: int) -> dict[str, list[Text]]:
    rng = random.Random(7)
    words = [f"w{i}" for i in range(5000)]

    def paragraph() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(20, 60)))

    return {"en": [Text("en", f"title {i}", [paragraph() for _ in range(rng.randint(1, 7))]) for i in range(n)]}


def test_recombined_texts_take_at_most_half_of_any_real_text_from_three_or_more():
    texts = _texts(300)
    owner = {p: t for t in texts["en"] for p in t.paragraphs}
    synthesised = [r for r in generate(3000, texts=texts) if r["source"].startswith("outlet")]
    assert len(synthesised) > 2000
    for record in synthesised:
        paragraphs = record["text"].split("\n\n")
        assert 3 <= len(paragraphs) <= 9
        by_source: dict[int, int] = {}
        for p in paragraphs:
            source = owner[p]
            by_source[id(source)] = by_source.get(id(source), 0) + len(p)
        assert len(by_source) >= 3
        for source_id, taken in by_source.items():
            source = next(t for t in texts["en"] if id(t) == source_id)
            assert taken <= sum(map(len, source.paragraphs)) // 2


def test_real_texts_and_reprints_are_spread_over_the_whole_corpus():
    records = list(generate(4000, texts=_texts(1000)))
    real = [i for i, r in enumerate(records) if r["source"] == "reuters.com"]
    reprints = [i for i, r in enumerate(records) if "reprint_of" in r]
    assert len(real) == 1000 or real[-1] > 3600  # the real texts last until the end
    assert sum(1 for i in real if i < 2000) / len(real) < 0.6
    assert 0.08 < len(reprints) / len(records) < 0.12
    assert sum(1 for i in reprints if i >= 2000) / len(reprints) > 0.4


def test_a_small_corpus_is_all_real_texts_and_reprints():
    records = list(generate(500, texts=_texts(1000)))
    assert all(r["source"] == "reuters.com" or "reprint_of" in r for r in records)
