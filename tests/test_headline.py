"""Which bodies carry none of their headline's words, and which headlines agree (pure).

Every text here is invented for the test.
"""

from __future__ import annotations

from archive.core import headline
from archive.core.normalize import is_cjk

SLOGAN = "品质生活，从这里开始"


def test_a_slogan_or_widget_body_is_stray_and_a_report_is_not():
    assert headline.stray_body("组图：青年乐团在滨江音乐节演出民族作品", SLOGAN)
    assert not headline.stray_body("青年乐团结束滨江巡演", "本报讯 昨日，青年乐团结束了滨江巡演，观众反响热烈。")
    assert headline.stray_body("NORTHWIND TRADERS SETS QUARTERLY", "Div 14 cents vs 14 cents prior\nPayable May 2")
    assert not headline.stray_body("Navy captures smugglers", "The navy has captured 12 smugglers off the coast.")


def test_a_short_or_missing_headline_never_makes_a_body_stray():
    assert not headline.stray_body(None, SLOGAN)
    assert not headline.stray_body("快讯", SLOGAN)  # one bigram: too short to judge
    assert not headline.stray_body("Markets", "Stocks fell on Monday.")


def test_latin_words_inside_a_chinese_headline_count():
    assert not headline.stray_body("Lumina手表销量公布了吗", "该公司今日发布财报，Lumina出货量未披露。", cjk=True)


def test_headlines_agree_on_words_not_on_form():
    assert headline.headlines_agree("秋季围巾的十种系法，总有一款适合你！", "秋季围巾的十种系法 总有一款适合你")
    assert not headline.headlines_agree("秋季围巾的十种系法", "运动鞋清洗的三个窍门")
    assert not headline.headlines_agree("NORTHWIND TRADERS SETS QUARTERLY", "BLUEHARBOR FOODS SETS QUARTERLY")


def test_only_two_stray_bodies_under_disagreeing_headlines_bar_a_copy():
    assert headline.bars_copy("秋季围巾的十种系法", True, "运动鞋清洗的三个窍门", True)
    assert not headline.bars_copy("秋季围巾的十种系法", True, "运动鞋清洗的三个窍门", False)
    assert not headline.bars_copy("秋季围巾的十种系法", True, "秋季围巾的十种系法！", True)


def test_the_script_is_the_body_s_so_a_stored_article_gets_the_flag_ingest_gave_it():
    title = "青年乐团结束滨江巡演观众反响热烈"  # a Chinese headline over a short English caption
    body = "Photos: the orchestra's last night on the river stage"
    assert headline.stray_body(title, body) == headline.stray_body(title, body, cjk=is_cjk(body))
