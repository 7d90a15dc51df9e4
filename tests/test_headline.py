"""Which bodies carry none of their headline's words, and which headlines agree (pure)."""

from __future__ import annotations

from archive.core import headline
from archive.core.normalize import is_cjk


def test_a_slogan_or_widget_body_is_stray_and_a_report_is_not():
    assert headline.stray_body("组图：张国立张杰张靓颖等出席中朝文艺汇演", "精度知天下，新闻更悦己")
    assert not headline.stray_body("张杰张靓颖等人赴朝鲜演出归来", "新浪娱乐讯 近日，张杰张靓颖等人赴朝鲜演出。")
    assert headline.stray_body("CAMCO INC SETS QUARTERLY", "Qtly div 11 cts vs 11 cts prior\nPay April 14")
    assert not headline.stray_body("Navy captures pirates", "The Indian navy has captured 23 Somalian pirates.")


def test_a_short_or_missing_headline_never_makes_a_body_stray():
    assert not headline.stray_body(None, "精度知天下，新闻更悦己")
    assert not headline.stray_body("快讯", "精度知天下，新闻更悦己")  # one bigram: too short to judge
    assert not headline.stray_body("Markets", "Stocks fell on Monday.")


def test_latin_words_inside_a_chinese_headline_count():
    assert not headline.stray_body("iPhone销量公布了吗", "苹果今日发布财报，iPhone出货量未披露。", cjk=True)


def test_headlines_agree_on_words_not_on_form():
    assert headline.headlines_agree("丸子头已经不流行了，这样的造型才是王道！", "丸子头已经不流行了 这样的造型才是王道")
    assert not headline.headlines_agree("丸子头已经不流行了", "紧身裤穿出性感女人味")
    assert not headline.headlines_agree("CAMCO INC SETS QUARTERLY", "MOTEL SIX LP SETS QUARTERLY")


def test_only_two_stray_bodies_under_disagreeing_headlines_bar_a_copy():
    assert headline.bars_copy("丸子头已经不流行了", True, "紧身裤穿出性感女人味", True)
    assert not headline.bars_copy("丸子头已经不流行了", True, "紧身裤穿出性感女人味", False)
    assert not headline.bars_copy("丸子头已经不流行了", True, "丸子头已经不流行了！", True)


def test_the_script_is_the_body_s_so_a_stored_article_gets_the_flag_ingest_gave_it():
    title = "张杰张靓颖等人赴朝鲜演出归来机场送行"  # a Chinese headline over a short English caption
    body = "Photos: the singers return from Pyongyang"
    assert headline.stray_body(title, body) == headline.stray_body(title, body, cjk=is_cjk(body))
