"""Placement rules end to end (real ingest, both databases): events respect publication time but
copies do not, and a copy cluster's original is chosen by evidence with the reason stored."""

from __future__ import annotations

import json
import random

import pytest

from archive.core import metadata

NAMES = ["Kelmorvin", "Tarzulbre", "Naxdovlem", "Quorithsab"]


def write_up(seed: int) -> str:
    """A write-up of one incident: its names in every paragraph, the wording drawn at random."""
    rng = random.Random(seed)
    words = "harbour council budget railway museum tunnel orchard bridge airport reservoir ferry quarry".split()
    paragraphs = []
    for _ in range(5):
        who, where = rng.sample(NAMES, 2)
        paragraphs.append(" ".join(f"{who} {rng.choice(['inspected', 'approved', 'delayed'])} the {rng.choice(words)} "
                                   f"{rng.choice(words)} near {where} on Tuesday." for _ in range(3)))
    return "\n".join(paragraphs)


def record(name: str, day: int, text: str, source: str, title: str = "Kelmorvin inspects the harbour") -> dict:
    return {"id": name, "source": source, "title": title, "text": text,
            "published": f"2025-03-{day:02d}T09:00:00"}


def placement(archive, records) -> dict[str, tuple[int, int]]:
    out = {}
    for r in records:
        a = archive.article(archive.find_article(f"urn:record:{r['source']}:{r['id']}"))
        out[r["id"]] = (a["copy_cluster"], a["event_cluster"])
    return out


def test_events_respect_time_copies_do_not(archive, tmp_path):
    original = write_up(1)
    records = [
        record("first", 1, original, "alpha.example"),
        record("two-days-later", 3, write_up(2), "beta.example"),
        record("twelve-days-later", 13, write_up(3), "gamma.example"),
        record("copy-twelve-days-later", 13, original + "\nRead more at farm.example", "farm.example"),
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert archive.ingest_paths([path]).new == 3
    placed = placement(archive, records)
    assert placed["two-days-later"][1] == placed["first"][1]  # one event within the window
    assert placed["twelve-days-later"][1] != placed["first"][1]  # the same names, another incident
    assert placed["copy-twelve-days-later"] == placed["first"]  # a copy joins whatever its date


def test_an_event_does_not_drift_day_by_day(archive, tmp_path):
    """Each write-up within four days of the one before, but the last six days after the first:
    it starts another event (an event's window is anchored on its first publication)."""
    records = [record("day-1", 1, write_up(11), "alpha.example"),
               record("day-4", 4, write_up(12), "beta.example"),
               record("day-7", 7, write_up(13), "gamma.example")]
    path = tmp_path / "drift.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert archive.ingest_paths([path]).new == 3
    placed = placement(archive, records)
    assert placed["day-4"][1] == placed["day-1"][1]
    assert placed["day-7"][1] != placed["day-1"][1]


def test_a_late_reprint_does_not_reopen_an_event(archive, tmp_path):
    """A reprint joins its original's event whatever its date; it does not move the event's window."""
    original = write_up(21)
    records = [record("first", 1, original, "alpha.example"),
               record("reprint-day-20", 20, original + "\nRead more at farm.example", "farm.example"),
               record("write-up-day-22", 22, write_up(22), "beta.example")]
    path = tmp_path / "late.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    archive.ingest_paths([path])
    placed = placement(archive, records)
    assert placed["reprint-day-20"] == placed["first"]
    assert placed["write-up-day-22"][1] != placed["first"][1]


def incident(seed: int, names: list[str]) -> str:
    """A report of one incident of a common kind: its two names once, the kind's vocabulary throughout."""
    rng = random.Random(seed)
    words = "harbour council budget railway museum tunnel orchard bridge airport reservoir ferry quarry".split()
    lines = [f"The inspection led by {names[0]} and {names[1]} ended in the afternoon."]
    for _ in range(5):
        lines.append(" ".join(f"The {rng.choice(words)} {rng.choice(['inspected', 'approved', 'delayed'])} "
                              f"the {rng.choice(words)} {rng.choice(words)}." for _ in range(3)))
    return "\n".join(lines)


@pytest.mark.parametrize("min_names", [2, 0])
def test_an_incident_of_the_same_kind_with_other_names_is_another_event(env, tmp_path, min_names):
    """Same vocabulary, same days, none of the names: another event (unless the names rule is off)."""
    from archive.api import Archive
    from archive.config import load_settings

    (tmp_path / "archive.toml").write_text(f"[matching]\nevent_min_names = {min_names}\n")
    title = "Harbour inspection ends"
    records = [
        record("first", 1, incident(1, NAMES[:2]), "alpha.example", title),
        record("same-incident", 2, incident(2, NAMES[:2]), "beta.example", title),
        record("other-incident", 2, incident(3, ["Drelvanoth", "Pilquesar"]), "gamma.example", title),
    ]
    path = tmp_path / "incidents.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    with Archive(load_settings()) as archive:
        assert archive.ingest_paths([path]).new == 3
        placed = placement(archive, records)
    assert placed["same-incident"][1] == placed["first"][1]
    if min_names:
        assert placed["other-incident"][1] != placed["first"][1]
    else:  # the control: on terms alone the two incidents are one event
        assert placed["other-incident"][1] == placed["first"][1]


@pytest.mark.parametrize("credit", ["来源：alpha.example", "转载自alpha.example", "Originally published by Alpha News."])
def test_original_chosen_by_credit_with_the_reason(archive, tmp_path, credit):
    text = write_up(4)
    reprint = {"id": "reprint", "source": "farm.example", "title": "Kelmorvin", "text": text + "\n" + credit}
    source = "Alpha News" if credit.startswith("Originally") else "alpha.example"
    first = {"id": "first", "source": source, "title": "Kelmorvin", "text": text}
    path = tmp_path / "credit.jsonl"
    path.write_text(json.dumps(reprint, ensure_ascii=False) + "\n" + json.dumps(first) + "\n")  # the reprint comes first
    assert metadata.find_attribution(credit) == source
    archive.ingest_paths([path])
    placed = placement(archive, [reprint, first])
    assert placed["reprint"][0] == placed["first"][0]
    cluster = archive.cluster(placed["first"][0])
    assert cluster["representative_id"] == archive.find_article(f"urn:record:{source}:first")
    assert cluster["original_reason"] == f"credited as the source by another copy ({source})"


ZH_WORDS = ("港口 议会 预算 铁路 博物馆 隧道 果园 大桥 机场 水库 渡轮 采石场 检查 批准 推迟 项目 工程 市民 "
            "代表 会议 码头 仓库 航线 货运 集装箱 泊位 调度 安全 设备 维修").split()


def zh_text(seed: int, lead: str) -> str:
    """A Chinese text: `lead`, then sentences of words drawn at random from one vocabulary."""
    rng = random.Random(seed)
    lines = [lead]
    for _ in range(5):
        lines.append("，".join("".join(rng.sample(ZH_WORDS, 3)) for _ in range(4)) + "。")
    return "\n".join(lines)


def zh_report(seed: int, day: int) -> str:
    """A Chinese report of a harbour inspection whose lead names 11月`day`日 as its day."""
    return zh_text(seed, f"北京时间11月{day}日消息，港口检查工作在下午结束。")


def zh_match_report(seed: int, result: str) -> str:
    """A Chinese report of a match on 11月4日 whose lead states the match's result."""
    return zh_text(seed, f"北京时间11月4日消息，公开赛男子单打比赛结束，主队选手以{result}战胜客队选手。")


def place_and_compare(tmp_path, settings: str, records: list[dict], a: str, b: str) -> tuple[dict, dict]:
    """Ingest `records` with `settings` as the [matching] table: (placement, `archive compare` of a and b)."""
    from archive.api import Archive
    from archive.config import load_settings

    (tmp_path / "archive.toml").write_text(f"[matching]\n{settings}\n")
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    with Archive(load_settings()) as archive:
        assert archive.ingest_paths([path]).new == len(records)
        ids = {r["id"]: archive.find_article(f"urn:record:{r['source']}:{r['id']}") for r in records}
        return placement(archive, records), archive.compare(ids[a], ids[b])


@pytest.mark.parametrize("slack", [1, -1])
def test_a_chinese_lead_naming_another_day_is_another_event(env, tmp_path, slack):
    """Undated records (no publication window): the lead's day keeps the next day's report in the
    event and one a week later out of it (unless the dateline rule is off)."""
    records = [{"id": name, "source": f"{name}.example", "title": "港口检查工作结束", "text": zh_report(seed, day)}
               for name, seed, day in (("first", 1, 2), ("next-day", 2, 3), ("week-later", 3, 9))]
    placed, compared = place_and_compare(tmp_path, f"event_dateline_days = {slack}", records, "first", "week-later")
    assert compared["days"] == [["11-02"], ["11-09"]]
    assert compared["days_conflict"] is (slack >= 0) and compared["same_event_terms"] is (slack < 0)
    assert placed["next-day"][1] == placed["first"][1]
    if slack >= 0:
        assert placed["week-later"][1] != placed["first"][1]
    else:  # the control: on terms alone the two reports are one event
        assert placed["week-later"][1] == placed["first"][1]


@pytest.mark.parametrize("results", [True, False])
def test_a_chinese_report_stating_another_result_is_another_match(env, tmp_path, results):
    """Two reports of one final state one result and are one event; the semifinal of the same day,
    in the same words, states another and is another event (unless the results rule is off)."""
    records = [{"id": name, "source": f"{name}.example", "title": "公开赛男子单打比赛结束", "text": zh_match_report(seed, result)}
               for name, seed, result in (("final", 1, "4比1"), ("final-again", 2, "4-1"), ("semifinal", 3, "4比0"))]
    placed, compared = place_and_compare(tmp_path, f"event_results = {'true' if results else 'false'}", records,
                                         "final", "semifinal")
    assert compared["results"] == [["4-1"], ["4-0"]]
    assert_results_rule(placed, compared, results, "final", "final-again", "semifinal")


def assert_results_rule(placed: dict, compared: dict, rule_on: bool, first: str, same: str, other: str) -> None:
    """`same` joins `first`'s event; `other` joins it only when the results rule is off (the
    control: on terms alone the three texts are one event)."""
    assert compared["results_conflict"] is rule_on and compared["same_event_terms"] is not rule_on
    assert placed[same][1] == placed[first][1]
    assert (placed[other][1] == placed[first][1]) is not rule_on


@pytest.mark.parametrize("results", [True, False])
def test_a_chinese_preview_is_another_event_than_a_reported_result(env, tmp_path, results):
    """A report of a match and a second one are one event; a preview of the team's next match in
    the same words states no result and is another event (unless the results rule is off)."""
    preview = zh_text(3, "北京时间11月4日消息，公开赛男子单打比赛今晚继续，主队选手将在主场迎战客队选手。")
    records = [{"id": "report", "source": "report.example", "title": "公开赛男子单打比赛", "text": zh_match_report(1, "4比1")},
               {"id": "report-again", "source": "again.example", "title": "公开赛男子单打比赛", "text": zh_match_report(2, "4-1")},
               {"id": "preview", "source": "preview.example", "title": "公开赛男子单打比赛", "text": preview}]
    placed, compared = place_and_compare(tmp_path, f"event_results = {'true' if results else 'false'}", records,
                                         "report", "preview")
    assert compared["preview"] == [False, True]  # what the texts are, whether the rule is on or off
    assert_results_rule(placed, compared, results, "report", "report-again", "preview")


# A made-up shop widget, the kind of block a scraper stores as the body of unrelated pages.
WIDGET = "\n".join(f"售价：¥{price}库存：{n}件 {item}{count}人推荐" for price, n, item, count in (
    (2499, 4, "平板电脑选购清单，下单前先看参数", 15203), (89, 6, "保温杯三件套限时特惠", 40417),
    (659, 2, "实木书桌带抽屉", 8812), (199, 3, "儿童绘本礼盒与拼图", 7349)))


def test_a_body_carrying_none_of_its_headline_makes_no_copies_under_other_headlines(archive, tmp_path):
    """A scrape failure (one widget stored as the body of unrelated stories) or a notice that never
    names its subject: the headline tells the stories apart, so they are neither copies nor one event,
    while the same page under the same headline is still a copy, and a real reprint under a new
    headline still is too. Every text is invented."""
    report = "\n".join(["滨江音乐节今晚开幕，青年乐团演奏了三首民族作品。"] * 2 + ["主办方表示，本届音乐节共有四十支乐队参加。"])
    records = [
        {"id": "bun", "source": "a.example", "title": "秋季围巾的十种系法，总有一款适合你！", "text": WIDGET},
        {"id": "tights", "source": "b.example", "title": "运动鞋清洗的三个窍门", "text": WIDGET},
        {"id": "skin", "source": "c.example", "title": "冬季阳台种花的五个误区", "text": WIDGET},
        {"id": "bun-again", "source": "d.example", "title": "秋季围巾的十种系法，总有一款适合你！", "text": WIDGET},
        {"id": "camco", "source": "wire.example", "title": "NORTHWIND TRADERS SETS QUARTERLY DIVIDEND",
         "text": "Div 14 cents vs 14 cents prior\nPayable May 2\nRecord April 18"},
        {"id": "motel", "source": "wire.example", "title": "BLUEHARBOR FOODS SETS QUARTERLY DIVIDEND",
         "text": "Div 14 cents vs 14 cents prior\nPayable May 2\nRecord April 18"},
        {"id": "report", "source": "e.example", "title": "滨江音乐节今晚开幕", "text": report},
        {"id": "reprint", "source": "f.example", "title": "四十支乐队参加滨江音乐节", "text": report},
    ]
    path = tmp_path / "stray.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    archive.ingest_paths([path])
    placed = placement(archive, records)
    copies = {name: copy for name, (copy, _) in placed.items()}
    events = {name: event for name, (_, event) in placed.items()}
    assert len({copies["bun"], copies["tights"], copies["skin"]}) == 3
    assert len({events["bun"], events["tights"], events["skin"]}) == 3
    assert copies["bun-again"] == copies["bun"]
    assert copies["camco"] != copies["motel"]
    assert copies["reprint"] == copies["report"]
    ids = {r["id"]: archive.find_article(f"urn:record:{r['source']}:{r['id']}") for r in records}
    explained = archive.compare(ids["bun"], ids["tights"])  # what `archive compare` explains
    assert explained["jaccard"] == 1.0 and explained["stray_body"] == [True, True]
    assert explained["headline_bars_copy"] and not explained["copy"]
    assert not archive.compare(ids["report"], ids["reprint"])["headline_bars_copy"]
    found = archive.similar(text="居家收纳的七个妙招大全\n" + WIDGET)["results"]  # `archive similar` too
    assert found and all(r["verdict"] != "copy" and r["jaccard"] == 1.0 for r in found if r["id"] == ids["bun"])
    assert any(r["id"] == ids["bun"] for r in found)
    labels = tmp_path / "labels.jsonl"  # `archive calibrate` counts the pair as placement does
    labels.write_text(json.dumps({"a": ids["bun"], "b": ids["tights"], "label": "UNRELATED"}) + "\n")
    sweep = next(s for s in archive.calibrate(labels, write=False)["sweeps"] if s["setting"] == "copy_containment")
    assert all(row["placed_together"] == 0 for row in sweep["rows"]), sweep
    replayed = archive.recluster(dry_run=True)  # recluster applies the same rule
    assert replayed["moved_articles"] == 0 and not replayed["merges"], replayed
