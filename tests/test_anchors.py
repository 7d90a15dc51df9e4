"""Name anchors (archive.core.anchors): which terms are names, when two vectors are two events of one
kind, and that the anchors neither move cosines nor enter the event index."""

from __future__ import annotations

from archive.core import anchors, events, matching

CONFIG = events.EventConfig()


def vector_with_anchors(title: str, text: str) -> dict[str, float]:
    vector = events.term_vector(title, text, CONFIG)
    return {**vector, **anchors.anchor_terms(text, vector, "und-Latn")}


def test_names_are_rare_terms_capitalised_in_latin_script():
    text = "Police said Kelmorvin crossed the Bridge near the Council on Tuesday.\nKelmorvin met Tarzulbre."
    vector = events.term_vector("", text, CONFIG)
    assert anchors.rare_names(text, vector, "und-Latn") == {"kelmorvin", "tarzulbr"}  # not Bridge, Council, Tuesday


def test_names_in_chinese_are_terms_rare_in_the_language():
    vector = {"樊振东": 0.5, "比赛": 0.5, "冠军": 0.5}
    assert anchors.rare_names("樊振东夺得比赛冠军", vector, "zh") == {"樊振东"}


def test_two_events_of_one_kind_share_no_names():
    a = {"court": 0.9, "@name:kelmorvin": anchors.WEIGHT, "@name:tarzulbr": anchors.WEIGHT}
    b = {"court": 0.9, "@name:drelvanoth": anchors.WEIGHT, "@name:pilquesar": anchors.WEIGHT}
    assert anchors.conflict(a, b, 2)
    assert not anchors.conflict(a, {**b, "@name:kelmorvin": 0.003}, 2)  # one name shared
    assert not anchors.conflict(a, {"court": 0.9, "@name:drelvanoth": anchors.WEIGHT}, 2)  # too few to tell
    assert not anchors.conflict(a, b, 0)  # the rule off


def test_event_match_refuses_an_event_with_other_names_only():
    config = matching.MatchingConfig()
    first = vector_with_anchors("Harbour inspection", "The harbour and the ferry and the quarry were inspected by "
                                "Kelmorvin and Tarzulbre.\nThe harbour reopened; the ferry and the quarry too.")
    other = vector_with_anchors("Harbour inspection", "The harbour and the ferry and the quarry were inspected by "
                                "Drelvanoth and Pilquesar.\nThe harbour reopened; the ferry and the quarry too.")
    plain = {t: w for t, w in other.items() if not anchors.is_anchor(t)}
    assert matching.event_match(plain, first, 1, config) is not None  # alike on terms
    assert matching.event_match(other, first, 1, config) is None
    assert events.cosine(other, first) - events.cosine(plain, first) < 1e-4  # anchors move no cosine


def test_anchors_stay_out_of_the_index_and_survive_truncation():
    vector = {"harbour": 0.8, "ferry": 0.6, "@name:kelmorvin": anchors.WEIGHT}
    assert events.index_keys(vector, CONFIG) == events.index_keys({"harbour": 0.8, "ferry": 0.6}, CONFIG)
    total = {"harbour": 3.0, "ferry": 2.0, "quarry": 1.0, **{f"@name:n{i}": 0.001 * (i + 1) for i in range(150)}}
    kept = events.add_to_sum(total, {}, limit=2)
    assert [t for t in kept if not anchors.is_anchor(t)] == ["harbour", "ferry"]
    assert len([t for t in kept if anchors.is_anchor(t)]) == anchors.EVENT_NAMES
    assert "@name:n149" in kept and "@name:n0" not in kept  # the most frequent names are kept
    assert anchors.term_count(kept) == 2


def test_the_dateline_day_is_the_day_a_lead_marks_as_its_own():
    assert anchors.dateline_day("新浪娱乐讯 北京时间10月31日消息，新片发布海报") == "10-31"
    assert anchors.dateline_day("记者 陈某11月9日，记者从公司获悉") == "11-09"
    assert anchors.dateline_day("恒大健康11月7日晚间公告") == "11-07"
    assert anchors.dateline_day("北京时间2018年11月9日，绿军客场逆转") == "11-09"
    assert anchors.dateline_day("１１月４日电 会议在北京举行") == "11-04"  # full-width digits
    assert anchors.dateline_day("新华社华盛顿消息 当地时间11月6日美国举行中期选举") == "11-06"
    assert anchors.dateline_day("报名截止时间11月10日。会议将于下月举行") is None  # a deadline
    # Dates the lead does not give as the story's own: a release date, a ceremony to come, an
    # impossible day; and a dateline past the lead.
    assert anchors.dateline_day("新片北美明年3月22日上映。颁奖典礼将于11月21日在海口举办") is None
    assert anchors.dateline_day("2月30日，会议举行") is None
    assert anchors.dateline_day("会议" * 150 + "11月4日，会议举行") is None


def test_only_chinese_japanese_and_korean_leads_give_a_day_anchor():
    text = "11月9日，港口检查工作结束。"
    vector = {"港口": 0.5, "检查": 0.5}
    assert anchors.anchor_terms(text, vector, "zh").get(f"{anchors.DAY_PREFIX}11-09") == anchors.WEIGHT
    assert not any(t.startswith(anchors.DAY_PREFIX) for t in anchors.anchor_terms(text, vector, "und-Latn"))


def test_days_conflict_only_past_the_slack_and_around_the_year():
    def days(*values):
        return {"港口": 0.9, **{f"{anchors.DAY_PREFIX}{v}": anchors.WEIGHT for v in values}}

    assert not anchors.day_conflict(days("11-02"), days("11-03"), 1)
    assert anchors.day_conflict(days("11-02"), days("11-04"), 1)
    assert not anchors.day_conflict(days("11-02"), days("10-20", "11-03"), 1)  # any member's day will do
    assert not anchors.day_conflict(days("12-31"), days("01-01"), 1)
    assert not anchors.day_conflict(days("11-02"), days(), 1)  # an event naming no day
    assert not anchors.day_conflict(days(), days("11-09"), 1)
    assert not anchors.day_conflict(days("11-02"), days("11-09"), -1)  # off
    config = matching.MatchingConfig()
    assert matching.event_match(days("11-02"), days("11-09"), 1, config, "zh") is None
    assert matching.event_match(days("11-02"), days("11-03"), 1, config, "zh") is not None


def test_match_results_are_scores_before_a_verb_of_winning_losing_or_drawing():
    text = ("决赛中，选手甲以4比1战胜队友乙夺冠。首局他以11比7先声夺人，又以11比8拿下第二局。"
            "主队在主场以113:85战胜了客队，上一轮则以98-102负于对手，两队曾以1比1战平。")
    assert anchors.match_results(text) == {"4-1", "113-85", "102-98", "1-1"}  # not the games' 11-7, 11-8
    assert anchors.match_results("比分一度是3比1，全场比赛还剩5分钟") == set()  # no verb: not a result
    vector = {"比赛": 0.5, "冠军": 0.5}
    assert f"{anchors.RESULT_PREFIX}4-1" in anchors.anchor_terms("选手甲以4比1战胜选手乙", vector, "zh")
    assert not any(anchors.is_anchor(t) for t in anchors.anchor_terms("The home side won 4-1 on Sunday", vector,
                                                                      "und-Latn"))


def test_results_conflict_only_when_both_state_results_and_share_none():
    def results(*values):
        return {"比赛": 0.9, **{f"{anchors.RESULT_PREFIX}{v}": anchors.WEIGHT for v in values}}

    assert anchors.result_conflict(results("4-1"), results("4-0", "4-2"))
    assert not anchors.result_conflict(results("4-1"), results("4-0", "4-1"))  # any member's result will do
    assert not anchors.result_conflict(results("4-1"), results())  # a preview states none
    assert not anchors.result_conflict(results(), results("4-1"))
    config = matching.MatchingConfig()
    assert matching.event_match(results("4-1"), results("4-0"), 1, config, "zh") is None
    assert matching.event_match(results("4-1"), results("4-1"), 1, config, "zh") is not None
    assert matching.event_match(results("4-1"), results("4-0"), 1, config, "und-Latn") is not None  # Chinese only
    off = matching.MatchingConfig(event_results=False)
    assert matching.event_match(results("4-1"), results("4-0"), 1, off, "zh") is not None


def test_a_preview_is_a_lead_announcing_a_match_with_no_score():
    assert anchors.is_preview("北京时间11月4日消息，今晚他们将客场挑战上海队。")
    assert anchors.is_preview("本周末，主队将在主场天河体育场迎战客队，赛前球队训练。")
    assert anchors.is_preview("今晚19:35，两队将迎来交手，主队将坐镇主场迎战客队。")  # a time is no score
    assert not anchors.is_preview("主队以114比102击败客队，下轮他们将客场挑战上海队。")  # states a result
    assert not anchors.is_preview("主队在客场2-1逆转客队，下一场将客场对阵另一支球队。")  # a score in the lead
    assert not anchors.is_preview("今晚的比赛很精彩，全场观众起立鼓掌。")
    assert not anchors.is_preview("引言" * 110 + "今晚他们将客场挑战上海队。")  # past the lead
    vector = {"比赛": 0.5, "球队": 0.5}
    assert anchors.PREVIEW_TERM in anchors.anchor_terms("今晚他们将客场挑战上海队。", vector, "zh")
    assert anchors.PREVIEW_TERM not in anchors.anchor_terms("Tonight they will face Shanghai away.", vector,
                                                            "und-Latn")


def test_a_preview_and_a_report_stating_a_result_conflict():
    preview = {"比赛": 0.9, anchors.PREVIEW_TERM: anchors.WEIGHT}
    report = {"比赛": 0.9, f"{anchors.RESULT_PREFIX}114-102": anchors.WEIGHT}
    neither = {"比赛": 0.9}
    assert anchors.result_conflict(preview, report) and anchors.result_conflict(report, preview)
    assert not anchors.result_conflict(preview, neither) and not anchors.result_conflict(neither, preview)
    assert not anchors.result_conflict(preview, dict(preview))  # two previews of one match
    config = matching.MatchingConfig()
    assert matching.event_match(preview, report, 1, config, "zh") is None
    assert matching.event_match(preview, neither, 1, config, "zh") is not None
    assert matching.event_match(preview, report, 1, matching.MatchingConfig(event_results=False), "zh") is not None
