"""The quick tests that spare the cleaning and metadata patterns give what the patterns give."""

from __future__ import annotations

import random
import re
import sys
import unicodedata

from archive.core import boilerplate, clean, metadata, normalize
from archive.core.normalize import squeeze_whitespace

_ALL = [chr(c) for c in range(sys.maxunicode + 1)]


def test_pattern_classes_are_the_str_predicates_the_quick_tests_use():
    space, digit = re.compile(r"\s"), re.compile(r"\d")
    assert [c for c in _ALL if bool(space.match(c)) != c.isspace()] == []
    assert [c for c in _ALL if bool(digit.match(c)) != c.isdecimal()] == []


def test_attribution_hints_survive_case_folding():
    """Every character the pattern takes for a hint's character casefolds to that character."""
    chars = sorted(set("".join(metadata._ATTRIBUTION_HINTS)))
    any_hint = re.compile("[" + re.escape("".join(chars)) + "]", re.IGNORECASE)
    for c in filter(any_hint.match, _ALL):
        for h in chars:
            if re.fullmatch(re.escape(h), c, re.IGNORECASE):
                assert c.casefold() == h, (c, h)


def _dated_line(rnd: random.Random) -> str:
    line = "".join((
        rnd.choice(["", " ", "发布时间：", "Published ", "某地发生一起事故", "A headline of the day"]),
        rnd.choice(["", "(", "（", "【"]),
        rnd.choice(["2024-03-05", "2024年3月5日", "3-5", "3月5日", "Jan. 5, 2024", "5 March 2024", "٢٠٢٤-٣-٥", "2024.1"]),
        rnd.choice(["", " 12:30", "12:30:45"]),
        rnd.choice(["", ")", "）", "】"]),
        "".join(rnd.choice(" |-–—·•\t\n\u3000x日。") for _ in range(rnd.randint(0, 3))),
    ))
    if rnd.random() < 0.3:
        i = rnd.randint(0, len(line))
        line = line[:i] + rnd.choice(["3", "日", ")", " ", "。", "a"]) + line[i:]
    return line


def test_date_line_quick_test_agrees_with_the_patterns():
    rnd = random.Random(7)
    for _ in range(20000):
        line = _dated_line(rnd)
        plain = bool(clean._DATE_LINE_RE.match(line)) or bool(clean._RELATIVE_TIME_LINE_RE.match(line))
        assert clean.is_date_line(line) == plain, line
        assert clean._is_dated_item(line) == (plain or bool(clean._DATED_HEADLINE_RE.match(line))), line


def test_attribution_and_canonical_link_quick_tests_agree_with_the_patterns():
    pieces = ["来源：", "稿源:", "转载自", "据", "新华社", "消息", "报道", "，", " ", "\n", "originally published by ",
              "orıginally publıshed in ", "FİRST APPEARED ON ", "ſource: ", "Reuters", "The Times.", "原文链接：",
              "canonical url ", "http://x.example/a", "HTTPS://y.example", "正文"]
    rnd = random.Random(3)
    for _ in range(20000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 8)))
        credit = next((next(g for g in m.groups() if g).strip() for m in metadata._ATTRIBUTION_RE.finditer(text)), None)
        assert metadata.find_attribution(text) == credit, text
        link = metadata._CANONICAL_RE.search(text)
        assert metadata.find_canonical_url(text) == (link.group(1).rstrip(".,;)") if link else None), text


def test_sentences_of_a_squeezed_line_are_the_squeezed_sentences():
    rnd = random.Random(5)
    for _ in range(20000):
        line = "".join(rnd.choice(["句子", "。", "!", ".", ";", "；", " ", "  ", "\t", "\u3000", "\xa0", "a b"])
                       for _ in range(rnd.randint(0, 10)))
        expected = [s for s in (squeeze_whitespace(p) for p in boilerplate._SENTENCE_RE.split(line)) if s]
        assert boilerplate._segments(line) == expected, line


def test_fold_narrows_full_width_forms_as_nfkc_would():
    assert all(unicodedata.normalize("NFKC", chr(c)) == chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F))
    pieces = ["，", "！", "Ａ", "ａ", "１", "（", "）", "\u0301", "\u0308", "\u3099", "か", "ｶ", "ﾞ", "A", "e", "體", "国",
              "…", "㈱", "ﬁ", " ", "Σ", "ς", "İ", "ß", "\uff5e", "\uff5f", "\uff00", "\uff01"]
    rnd = random.Random(11)
    for _ in range(20000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 10)))
        plain = unicodedata.normalize("NFKC", text).casefold().translate(normalize._traditional_to_simplified())
        assert normalize.fold(text) == plain, text


def test_squeezed_whitespace_is_what_the_pattern_gives():
    spaces = [chr(c) for c in range(0x110000) if re.fullmatch(r"\s", chr(c))]
    assert spaces == [chr(c) for c in range(0x110000) if chr(c).isspace()]
    rnd = random.Random(12)
    for _ in range(20000):
        text = "".join(rnd.choice(spaces + ["a", "句", "b c", "\u200b"]) for _ in range(rnd.randint(0, 12)))
        assert normalize.squeeze_whitespace(text) == re.sub(r"\s+", " ", text).strip(), repr(text)


def test_repeated_lines_are_grouped_by_their_squeezed_text():
    lines = ["关注 我们", "关注\u3000我们", " 关注\t\t我们\xa0", "关注我们", "a  b", "a b"]
    result = clean.drop_repeated_lines(lines)
    assert result.lines == ["关注我们", "a  b", "a b"]
    assert [r.text for r in result.removed] == lines[:3]
    assert len({squeeze_whitespace(line) for line in lines[:3]}) == 1


def test_phrases_keyed_together_get_their_own_keys():
    """Phrases folded as one text joined by line breaks key as each folded alone: no character's
    fold reaches across a line break, whatever sits at a phrase's ends (combining marks, final
    sigma, full-width and traditional forms, ligatures)."""
    assert [c for c in _ALL if "\n" in normalize.fold(c)] == ["\n"]
    rng = random.Random(5)
    tricky = ["\u0301x", "x\u0301", "ΟΔΟΣ", "ﬁ", "Ａｂｃ！", "國際", "\u1100\u1161", "e\u0327\u0301", "ß", "İ"]
    phrases = ["".join(rng.choice(tricky + ["ab ", "中文", "。", "!"]) for _ in range(rng.randint(1, 6)))
               for _ in range(400)]
    boilerplate._known_keys.clear()
    assert boilerplate.phrase_keys(phrases) == [boilerplate.phrase_key(p) for p in phrases]
    assert boilerplate.phrase_keys(phrases) == [boilerplate.phrase_key(p) for p in phrases]  # remembered


def test_remembered_phrase_keys_stay_bounded(monkeypatch):
    monkeypatch.setattr(boilerplate, "KNOWN_KEYS_LIMIT", 50)
    boilerplate._known_keys.clear()
    phrases = [f"Sentence number {i} of many." for i in range(120)]
    for start in range(0, 120, 30):
        assert boilerplate.phrase_keys(phrases[start:start + 30]) == [boilerplate.phrase_key(p) for p in
                                                                      phrases[start:start + 30]]
        assert len(boilerplate._known_keys) <= 50
