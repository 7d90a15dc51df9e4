"""Event anchors: the names a text holds, which tell two events of one kind apart.

Two reports of one event name its protagonists; two events of one kind (two matches of a league,
two universities' brochures from one template, two earthquakes) share their vocabulary but not
their names. A name here is a salient term that is a proper noun and not common in its language:
in Chinese, a word jieba tags as a person, place or organisation (nr, ns, nt) with a zipf
frequency of at most 3 (so 中国 and 上海 are not names; jieba's catch-all "other proper noun", nz,
is left out: about half of it is domain vocabulary such as 锂电池 or 非全日制, which two
universities' brochures share while naming different universities); in Latin script, a word
capitalised inside a line with a zipf frequency of at most 2 (capitals also start common words
such as "Police" or "Navy").

The day a Chinese or Japanese lead names as the story's day (its dateline: 北京时间11月4日消息,
11月9日，…, 11月7日晚间) is an anchor too. Two reports of one event name the same day or the next
(time zones, a report written the morning after); a follow-up, a preview and its result, or the
data of another day name another. Only a date the lead marks as its own counts: one followed by
a comma, 消息, 电, 讯 or a time of day, or preceded by 北京时间 or 当地时间, so a film's "3月22日上映" or a
ceremony "将于11月21日" is not taken for the story's day. Years are left out (a lead often has
none), so days compare around the year's end.

A match result a Chinese text states (以4比1战胜…, 以98-80大胜…, 以1比1战平…: a score right before
a verb of winning, losing or drawing) is an anchor as well. Two reports of one match state its
result; a preview and its result, one team's two games, or a final and its semifinals state other
results or none. Scores are kept highest first, so "3-1" whichever side won. 拿下 and 赢下 are not
among the verbs: they are said of games and sets too (以11比7拿下首局).

A preview is an anchor of its own: a Chinese text whose lead announces a coming match (今晚他们将客场
挑战上海队, 将在主场迎战…, 将对阵…) and which states no result, and whose lead holds no score (a
report's lead often names the next fixture after the score: 2-1逆转尤文…将客场对阵曼城). A preview
and a report stating a result are two events even when they name the same teams: the match before
and after it is played, or (more often) one team's next match and its last.

Names, days, results and previews ride in the event vector as pseudo-terms (`@name:`, `@day:` or
`@result:` and the value, `@preview:match`) with a negligible weight, so they are stored, summed
into the event's centroid and replayed by recluster like terms without moving a cosine.
"""

from __future__ import annotations

import datetime as dt
import functools
import re

CJK_LANGUAGES = ("zh", "ja", "ko")  # as `archive.core.normalize.detect_language` names them

PREFIX = "@"
NAME_PREFIX = "@name:"
DAY_PREFIX = "@day:"
RESULT_PREFIX = "@result:"
PREVIEW_TERM = "@preview:match"
LEAD_CHARS = 200  # where a dateline is looked for: the lead's first sentences
_DATELINE_RE = re.compile(
    r"(?P<before>北京时间|当地时间)?\s*(?:\d{4}\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
    r"(?P<after>\s*(?:[,，、]|消息|电|讯|报道|凌晨|早|上午|中午|午|下午|傍晚|晚|夜))?"
)
# A score, then (after an optional 的比分) a verb saying who won, lost or drew the match.
_RESULT_RE = re.compile(
    r"以\s*(?P<a>\d{1,3})\s*[比:：\-–]\s*(?P<b>\d{1,3})\s*(?:的总?比分)?\s*"
    r"(?:战胜|击败|击退|打败|力克|险胜|大胜|完胜|轻取|横扫|淘汰|逆转|取胜|获胜|胜出"
    r"|不敌|负于|输给|告负|落败|惜败|惨败|战平|逼平)"
)
# "Will (at home / away / at a ground / on a day) meet …": a match still to be played.
_PREVIEW_RE = re.compile(
    r"(?:即将|将要|将)(?:于[^，。；！？\n]{0,14}?|在[^，。；！？\n]{0,14}?)?"
    r"(?:坐镇主场|主场|客场|做客[^，。；！？\n]{0,10}?)?"
    r"(?:迎战|挑战|对阵|迎击|交手|对决|过招|对垒)"
)
# A bare score in a lead (2-1, 2比1): the lead reports a played match. Not a colon: 19:35 is a time.
_SCORE_RE = re.compile(r"(?<!\d)\d{1,3}\s*[比\-–]\s*\d{1,3}(?!\d)")
WEIGHT = 0.001
CJK_NAME_ZIPF = 3.0
LATIN_NAME_ZIPF = 2.0
EVENT_NAMES = 100  # anchors (names, days) an event's centroid keeps: the most frequent among its members
_PROPER_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt"})


def is_anchor(term: str) -> bool:
    return term.startswith(PREFIX)


@functools.lru_cache(maxsize=1 << 16)
def _proper_noun(word: str) -> bool:
    """Whether jieba's part-of-speech tagger takes a Chinese word, alone, for a proper noun."""
    import rjieba

    tagged = rjieba.tag(word)
    return len(tagged) == 1 and tagged[0][1] in _PROPER_TAGS


def rare_names(text: str, vector: dict[str, float], language: str) -> set[str]:
    """The terms of an article's event vector that are names (see the module docstring).

    `language` is `archive.core.normalize.detect_language(text)`, which the caller has at hand.
    """
    from archive.core import events

    if language in CJK_LANGUAGES:
        words = [t for t in vector if not is_anchor(t) and _proper_noun(t)]
        return {t for t, idf in zip(words, events.idf_many(words, "zh")) if 9.0 - idf <= CJK_NAME_ZIPF}
    words = sorted(events.names(text))
    return ({events.stem(n) for n, idf in zip(words, events.idf_many(words, "en")) if 9.0 - idf <= LATIN_NAME_ZIPF}
            & vector.keys())


def term_count(vector: dict[str, float]) -> int:
    """The real terms of an event vector, anchors left out."""
    return len(vector) - sum(1 for t in vector if is_anchor(t))


def dateline_day(text: str) -> str | None:
    """The day ("MM-DD") a Chinese or Japanese lead gives as the story's own, else None."""
    for m in _DATELINE_RE.finditer(text[:LEAD_CHARS]):
        if not (m["before"] or m["after"]):
            continue
        try:
            day = dt.date(2000, int(m["m"]), int(m["d"]))  # a leap year, so 02-29 is a day too
        except ValueError:
            continue
        return f"{day:%m-%d}"
    return None


def match_results(text: str) -> set[str]:
    """The match results ("4-1", highest score first) a Chinese text states (see the module docstring)."""
    out = set()
    for m in _RESULT_RE.finditer(text):
        a, b = int(m["a"]), int(m["b"])
        out.add(f"{max(a, b)}-{min(a, b)}")
    return out


def is_preview(text: str, results: set[str] | None = None) -> bool:
    """Whether a Chinese text's lead announces a match still to be played and it reports none
    (`results`: its `match_results`, when the caller has them)."""
    lead = text[:LEAD_CHARS]
    if not _PREVIEW_RE.search(lead) or _SCORE_RE.search(lead):
        return False
    return not (match_results(text) if results is None else results)


def anchor_terms(text: str, vector: dict[str, float], language: str) -> dict[str, float]:
    """The pseudo-terms of the names an article's event vector holds, of its dateline's day, of
    the match results it states and of its being a match preview."""
    out = {f"{NAME_PREFIX}{n}": WEIGHT for n in rare_names(text, vector, language)}
    if language in CJK_LANGUAGES:
        day = dateline_day(text)
        if day:
            out[f"{DAY_PREFIX}{day}"] = WEIGHT
        results = match_results(text)
        out.update((f"{RESULT_PREFIX}{r}", WEIGHT) for r in results)
        if is_preview(text, results):
            out[PREVIEW_TERM] = WEIGHT
    return out


def names_of(vector: dict[str, float]) -> set[str]:
    return {term[len(NAME_PREFIX):] for term in vector if term.startswith(NAME_PREFIX)}


def conflict(vector: dict[str, float], other: dict[str, float], min_names: int) -> bool:
    """Two events of one kind: both hold at least `min_names` names and share none (0: never)."""
    if min_names <= 0:
        return False
    mine = names_of(vector)
    if len(mine) < min_names:
        return False
    theirs = names_of(other)
    return len(theirs) >= min_names and not mine & theirs


def days_of(vector: dict[str, float]) -> set[str]:
    return {term[len(DAY_PREFIX):] for term in vector if term.startswith(DAY_PREFIX)}


@functools.lru_cache(maxsize=400)
def _day_of_year(day: str) -> int:
    return dt.date(2000, int(day[:2]), int(day[3:])).timetuple().tm_yday


def _day_gap(a: str, b: str) -> int:
    """Days between two "MM-DD" days, the shorter way round the year."""
    gap = abs(_day_of_year(a) - _day_of_year(b))
    return min(gap, 366 - gap)


def day_conflict(vector: dict[str, float], other: dict[str, float], slack: int) -> bool:
    """Another specific event: both name dateline days and none of theirs is within `slack` days
    of the article's (negative: never)."""
    if slack < 0:
        return False
    mine = days_of(vector)
    if not mine:
        return False
    theirs = days_of(other)
    return bool(theirs) and all(_day_gap(a, b) > slack for a in mine for b in theirs)


def results_of(vector: dict[str, float]) -> set[str]:
    return {term[len(RESULT_PREFIX):] for term in vector if term.startswith(RESULT_PREFIX)}


def result_conflict(vector: dict[str, float], other: dict[str, float]) -> bool:
    """Another match, or the same before and after it: both state match results and share none,
    or one side is a preview and the other states a result."""
    mine, theirs = results_of(vector), results_of(other)
    if mine and theirs:
        return not mine & theirs
    return bool(PREVIEW_TERM in vector and theirs or mine and PREVIEW_TERM in other)


def truncate(total: dict[str, float], limit: int) -> dict[str, float]:
    """A sum of vectors cut to its `limit` heaviest terms and its `EVENT_NAMES` most frequent anchors."""
    terms = sorted(((t, w) for t, w in total.items() if not is_anchor(t)), key=lambda kv: (-kv[1], kv[0]))
    names = sorted(((t, w) for t, w in total.items() if is_anchor(t)), key=lambda kv: (-kv[1], kv[0]))
    return dict(terms[:limit] + names[:EVENT_NAMES])
