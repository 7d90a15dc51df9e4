"""Cleaning rules on generated variants: other watermark words, prefix and suffix placement, other
headline-list formats, prompts, and text that must stay (a sentence quoted twice, a recurring
phrase inside sentences)."""

from __future__ import annotations

import random

import pytest

from archive.pipeline.extract import extract_text
from tests.conftest import SEEDS

OTHER = SEEDS / "001_60d11f0826a252e5.txt"


def seed_paragraphs() -> list[str]:
    """Body paragraphs of a seed (long lines only: no header, list or footer)."""
    return [line.strip() for line in OTHER.read_text("utf-8").splitlines() if len(line.strip()) > 60][:8]


def english_paragraphs(seed: int = 3, count: int = 7) -> list[str]:
    rng = random.Random(seed)
    words = ("council harbour railway budget museum district engineers festival tunnel shipment "
             "ministry volunteers orchard bridge airport reservoir inspectors governor").split()
    out = []
    for _ in range(count):
        sentences = [f"The {rng.choice(words)} {rng.choice(words)} reviewed the {rng.choice(words)} plan "
                     f"near Kelmor on Tuesday, {rng.choice(words)} officials said." for _ in range(3)]
        out.append(" ".join(sentences))
    return out


WATERMARKS_ZH = ["本文来源：看点快报网 kandian.example", "更多精彩资讯请关注微信公众号：每日新闻汇",
                 "（文章来自东方资讯，转载请注明出处）", "5G即热资讯——关注每天科技社会新变化"]
WATERMARKS_EN = ["Read the full story at dailybuzz.example", "(c) NewsWire Today - newswire.example",
                 "Follow TopStories for more updates"]


def page(title: str, paragraphs: list[str], tail: list[str] = ()) -> str:
    return "\n\n".join([title, *paragraphs, *tail])


@pytest.mark.parametrize("mark", WATERMARKS_ZH)
@pytest.mark.parametrize("where", ["after", "before"])
def test_chinese_watermark_after_or_before_every_paragraph(mark, where):
    paras = seed_paragraphs()
    marked = [p + mark if where == "after" else mark + p for p in paras]
    ex = extract_text(page("标题", marked))
    assert ex.lines == paras
    assert {r.text for r in ex.removed if r.rule == "watermark"} == {mark}


@pytest.mark.parametrize("mark", WATERMARKS_EN)
@pytest.mark.parametrize("where", ["after", "before", "own-line"])
def test_english_watermark_variants(mark, where):
    paras = english_paragraphs()
    if where == "own-line":
        body = [x for p in paras for x in (p, mark)]
    else:
        body = [f"{p} {mark}" if where == "after" else f"{mark} {p}" for p in paras]
    ex = extract_text(page("Council reviews the plan", body))
    assert ex.lines == paras
    assert mark not in ex.text


LIST_FORMATS = {
    "title then date": lambda t, d: [t, d.replace("/", "-")],
    "date then title": lambda t, d: [d, t],
    "title (date)": lambda t, d: [f"{t} ({d})"],
    "title | date": lambda t, d: [f"{t} | {d}"],
    "【date】title": lambda t, d: [f"{t} 【{d}】"],
}


@pytest.mark.parametrize("fmt", sorted(LIST_FORMATS))
@pytest.mark.parametrize("head", ["为你推荐", "相关阅读", "Related articles", None])
def test_trailing_headline_lists_are_cut(fmt, head):
    paras = seed_paragraphs()
    headlines = ["另一条新闻的标题甲，关于东莞的产业", "另一条新闻的标题乙：香港的金融市场",
                 "Another headline about the harbour council", "另一条新闻的标题丁，深圳的交通"]
    tail = [head] if head else []
    for i, h in enumerate(headlines):
        tail += LIST_FORMATS[fmt](h, f"2025/03/{10 + i:02d}")
    ex = extract_text(page("标题", paras, tail))
    assert ex.lines == paras
    assert not any(h in ex.text for h in headlines)


@pytest.mark.parametrize("prompt", ["点击右上角，分享到朋友圈", "下载新闻客户端，阅读更多精彩内容",
                                    "Share this article on Facebook", "Download the app to read more"])
def test_share_prompts_go_wherever_they_stand(prompt):
    paras = seed_paragraphs()
    body = paras[:3] + [prompt] + paras[3:] + [prompt]
    ex = extract_text(page("标题", body))
    assert ex.lines == paras


def test_a_sentence_quoted_twice_stays():
    paras = english_paragraphs(count=6)
    quote = '"We will not close the harbour," the governor said.'
    body = paras[:2] + [quote] + paras[2:4] + [quote] + paras[4:]
    ex = extract_text(page("Governor on the harbour", body))
    assert ex.lines == body


def test_a_phrase_recurring_inside_sentences_stays():
    paras = [f"On day {i} of the session the governor said the budget was fine, and the council "
             f"approved item {i * 7} without a vote." for i in range(6)]
    ex = extract_text(page("Council meetings", paras))
    assert ex.lines == paras


def test_script_left_in_scraped_text_goes_and_prose_with_brackets_stays():
    paras = seed_paragraphs()[:4]
    script = ["(function(){", "var adScript = document.createElement('script');",
              "adScript.src = '//ads.example/js/left_20171020.js';",
              "document.getElementsByTagName('head')[0].appendChild(adScript);", "})();",
              ".share-box{margin:0 auto;padding:4px}"]
    prose = ["Shares rose 5 pct; profit = 3 mln (vs 2 mln); sales were up.",
             "The score was 3-1 (2-0 at half time), the coach said."]
    ex = extract_text(page("标题", paras + prose + script))
    assert ex.lines == paras + prose
    assert [r.text for r in ex.removed if r.rule in ("code", "punctuation")] == script
