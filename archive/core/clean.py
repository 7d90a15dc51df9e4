"""Boilerplate removal: from a list of text lines to the article's clean text, with an audit trail.

The rules are general, none is written for one site:

- a phrase repeated at the end (or start) of many paragraphs is a watermark and is cut from all;
- a standalone line that appears three times or more is injected boilerplate (a sentence quoted
  twice stays);
- share, follow and "read it in the app" prompts are dropped wherever they stand;
- lines of script or style sheet left in scraped text are dropped;
- a footer marker ("related articles", "上一篇", "本文链接" ...) in the second half of the text cuts
  everything after it;
- a trailing list of other headlines, recognised by its regular date lines, is cut;
- lines made only of punctuation are dropped.

Every removed piece is returned as a `Removal` (rule and text) so the archive can keep it for audit.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from collections import Counter
from collections.abc import Iterable

from archive.core.normalize import squeeze_whitespace

MIN_AFFIX = 6
MAX_AFFIX = 120
LONG_AFFIX = 15
_OPENING = "（(【[「『《〈"  # left dangling when a bracketed watermark is cut from a paragraph's end
_CLOSING = "）)】]」』》〉"
# Inner edges of a watermark: the punctuation it meets is the paragraph's, brackets are its own.
_SUFFIX_EDGE_RE = re.compile(r"^[^\w（(【\[「『《〈]+")
_PREFIX_EDGE_RE = re.compile(r"[^\w）)】\]」』》〉]+$")

_SENTENCE_END_RE = re.compile(r'([。！？!?.…]|[。！？!?.][”"’』」)）])$|(报道|电)$')
_PUNCT_ONLY_RE = re.compile(r"^[\W_]+$", re.UNICODE)
_AFFIX_EDGE_RE = re.compile(r"^[\s\W_]+|[\s\W_]+$", re.UNICODE)

_PROMPT_RE = re.compile(
    r"(点击右上角|点击浏览器下方|分享到|分享至|分享给|微信好友|QQ好友|朋友圈|扫一扫|扫码|二维码|"
    r"关注我们|关注公众号|下载.{0,12}(APP|App|app|客户端)|打开.{0,12}(APP|App|app|客户端)|"
    r"(APP|App|app|客户端)(内|中)?(阅读|查看)|"
    r"\b(share (this|on|via)|follow us|download (the|our) app|read (more |it )?in the app|"
    r"open in app|sign up for (our|the) newsletter|subscribe to (our|the) newsletter|"
    r"click here to|advertisement)\b)",
    re.IGNORECASE,
)
_PROMPT_MAX_LEN = 80
_CODE_START_RE = re.compile(
    r"^\s*(\(?function\s*\(|var\s+\w+\s*=|(let|const)\s+\w+\s*=|document\.\w+|window\.\w+|\}\)\(\);?\s*$|"
    r"</?(script|style)\b|[\w#.-]+\s*\{[^}]*:[^}]*\}\s*$|[\w$]+(\.[\w$]+)+\s*=\s*\S[^ ]*;\s*$)"
)

_FOOTER_RE = re.compile(
    r"^\s*(本文链接|原文链接|原文地址|声明[:：]|免责声明|版权声明|上一篇|下一篇|为你推荐|为您推荐|相关阅读|"
    r"推荐阅读|相关新闻|相关文章|热门推荐|猜你喜欢|延伸阅读|更多精彩|热点推荐|返回(首页|顶部|列表)?$|"
    r"related (articles|stories|news|posts|coverage)|recommended( for you| stories| articles)?$|"
    r"more (stories|from|news)|you may also like|read next|most (read|popular)|trending now)",
    re.IGNORECASE,
)

_DATE = (
    r"(\d{4}[-/.年]\d{1,2}([-/.月]\d{1,2}日?)?|\d{1,2}[-/.]\d{1,2}|\d{1,2}月\d{1,2}日|"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}|"
    r"\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]* \d{4})"
)
_TIME = r"(\s*\d{1,2}:\d{2}(:\d{2})?)?"
_DATE_LINE_RE = re.compile(
    rf"^\s*((时间|日期|发布时间|发布于|published|posted|updated)\s*[:：]?\s*)?[(\[（【]?{_DATE}{_TIME}[)\]）】]?[\s|\-–—·•]*$",
    re.IGNORECASE,
)
_DATED_HEADLINE_RE = re.compile(rf"^.{{4,80}}?\s*[(\[（【]?{_DATE}{_TIME}[)\]）】]?[\s|\-–—·•]*$", re.IGNORECASE)
# What `_DATE_LINE_RE` and `_DATED_HEADLINE_RE` allow after the date (`\s` is `str.isspace`), and the
# characters a date, a time or their closing bracket can end with (`\d` is `str.isdecimal`).
_DATE_TRAILER = "|-–—·•"
_DATE_LAST = "日)]）】"
_RELATIVE_TIME_LINE_RE = re.compile(
    r"^\s*\d+\s*(秒|分钟|小时|天|周|个月|年)前\s*$|^\s*\d+\s*(seconds?|minutes?|hours?|days?|weeks?|months?)\s+ago\s*$",
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True)
class Removal:
    rule: str
    text: str


@dataclasses.dataclass
class CleanResult:
    lines: list[str]
    removed: list[Removal]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def split_lines(text: str) -> list[str]:
    """Non-empty lines with surrounding whitespace removed."""
    out = []
    for line in text.splitlines():
        line = line.strip().replace("\u3000", " ").strip()
        if line:
            out.append(line)
    return out


def _most_common_affix(lines: list[str], suffix: bool) -> tuple[str, int] | None:
    """The longest affix shared by many paragraphs, trimmed of punctuation at its inner edge.

    `lines` are those that are no date line: the dates of a trailing headline list share prefixes
    such as "2024-03-" among themselves. "Many" is at least three and a quarter of the
    paragraph-length lines. A short suffix must follow sentence-ending punctuation in most lines
    carrying it (a watermark is appended after a paragraph), so a recurring phrase such as "he
    said." is not taken for one.
    """
    paragraphs = [line for line in lines if len(line) > 2 * MIN_AFFIX]
    needed = max(3, -(-len(paragraphs) // 4))
    if len(paragraphs) < 3:
        return None
    best: tuple[str, int] | None = None
    base_count = 0
    for length in range(MIN_AFFIX, MAX_AFFIX + 1):
        counts = Counter(
            (line[-length:] if suffix else line[:length]) for line in lines if len(line) > length
        )
        if not counts:
            break
        affix, count = counts.most_common(1)[0]
        if length == MIN_AFFIX:
            base_count = count
        if count < needed or count < 0.8 * base_count:
            break
        best = (affix, count)
    if best is None:
        return None
    # The longest shared affix may reach into text common to the paragraphs ("... officials said.
    # Read more at x.example"): the watermark is its longest tail (head) that sits on a sentence
    # boundary in most lines carrying it.
    longest = best[0]
    for length in range(len(longest), MIN_AFFIX - 1, -1):
        affix = _trim_inner_edge(longest[-length:] if suffix else longest[:length], suffix)
        if sum(ch.isalnum() for ch in affix) < 3:
            continue
        carriers = [line for line in lines if (line.endswith(affix) if suffix else line.startswith(affix))]
        if _bounded(carriers, affix, suffix) >= 0.6 * len(carriers):
            return affix, len(carriers)
    # A long phrase recurring at paragraph edges is boilerplate whatever precedes it; a short one
    # ("he said.") must also sit on a sentence boundary to count as a watermark.
    affix = _trim_inner_edge(longest, suffix)
    own_ending = suffix and affix[-1:] in "。！？!?."  # "... without a vote." ends the paragraphs' own sentences
    if len(affix) >= LONG_AFFIX and not own_ending:
        return affix, sum(1 for line in lines if (line.endswith(affix) if suffix else line.startswith(affix)))
    return None


def _trim_inner_edge(affix: str, suffix: bool) -> str:
    """A watermark does not begin (or end) with the punctuation of the paragraph it hides in."""
    return _SUFFIX_EDGE_RE.sub("", affix) if suffix else _PREFIX_EDGE_RE.sub("", affix)


def _bounded(carriers: list[str], affix: str, suffix: bool) -> int:
    """How many carriers have a sentence boundary where the affix meets the paragraph."""
    if suffix:
        return sum(1 for line in carriers if _SENTENCE_END_RE.search(line[: -len(affix)].rstrip()))
    count = 0
    for line in carriers:
        rest = line[len(affix):]
        head = rest.lstrip()
        latin_end = affix[-1].isalnum() and not _is_cjk_char(affix[-1])
        glued = latin_end and affix[-1].islower() and rest[:1].isupper()  # "...updatesThe DOT said"
        word_edge = not latin_end or not rest[:1].isalnum() or _is_cjk_char(rest[:1]) or glued
        # after a Latin word, a new sentence starts with a capital ("On day 3" is one sentence)
        starts = head[:1].isupper() or _is_cjk_char(head[:1]) or (head[:1].isdigit() and not latin_end)
        if head and word_edge and (starts or not head[0].isalnum()):
            count += 1
    return count


def _is_cjk_char(ch: str) -> bool:
    return bool(ch) and "\u2e80" <= ch <= "\u9fff"


def strip_repeated_affixes(lines: list[str]) -> CleanResult:
    """Cut a watermark phrase that ends (or starts) many lines from every line carrying it."""
    removed: list[Removal] = []
    undated = None  # the lines that are no date line, until a watermark is cut from them
    for suffix in (True, False):
        if undated is None:
            undated = [line for line in lines if not is_date_line(line)]
        found = _most_common_affix(undated, suffix)
        if not found:
            continue
        affix = found[0]
        new_lines = []
        for line in lines:
            if suffix and line.endswith(affix):
                kept = line[: -len(affix)].rstrip().rstrip(_OPENING).rstrip()
                removed.append(Removal("watermark", line[len(kept):].strip()))
                line = kept
            elif not suffix and line.startswith(affix):
                kept = line[len(affix) :].lstrip().lstrip(_CLOSING).lstrip()
                removed.append(Removal("watermark", line[: len(line) - len(kept)].strip()))
                line = kept
            elif line == affix:
                line = ""
            if line:
                new_lines.append(line)
        lines, undated = new_lines, None
    return CleanResult(lines, removed)


def drop_repeated_lines(lines: list[str], min_count: int = 3) -> CleanResult:
    keys = [squeeze_whitespace(line) for line in lines]
    counts = Counter(keys)
    keep, removed = [], []
    for line, key in zip(lines, keys):
        if counts[key] >= min_count:
            removed.append(Removal("repeated-line", line))
        else:
            keep.append(line)
    return CleanResult(keep, removed)


def is_prompt(line: str) -> bool:
    return len(line) <= _PROMPT_MAX_LEN and bool(_PROMPT_RE.search(line))


def is_code(line: str) -> bool:
    """A line of script or style sheet left in scraped text: code syntax, dense, and no CJK prose."""
    if _CODE_START_RE.search(line):
        return True
    braces = line.count("{") + line.count("}")
    if len(line) < 8 or braces < 2:
        return False
    code_only = braces + line.count(";") + line.count("=")
    syntax = code_only + line.count("(") + line.count(")")
    return code_only >= 3 and syntax >= 0.08 * len(line) and not any(_is_cjk_char(c) for c in line)


def _ends_like_date(line: str) -> bool:
    """Whether the line ends as the date patterns require: a digit, 日 or a closing bracket before
    any trailing separators (a cheap necessary condition, spares the patterns most paragraphs)."""
    end = len(line)
    while end and (line[end - 1].isspace() or line[end - 1] in _DATE_TRAILER):
        end -= 1
    return end > 0 and (line[end - 1].isdecimal() or line[end - 1] in _DATE_LAST)


def is_date_line(line: str) -> bool:
    return (_ends_like_date(line) and bool(_DATE_LINE_RE.match(line))) or bool(_RELATIVE_TIME_LINE_RE.match(line))


def _is_dated_item(line: str) -> bool:
    return is_date_line(line) or (_ends_like_date(line) and bool(_DATED_HEADLINE_RE.match(line)))


def _footer_start(lines: list[str]) -> int | None:
    total = sum(len(line) for line in lines)
    before = 0
    for i, line in enumerate(lines):
        if i > 0 and before >= total / 2 - len(line) and _FOOTER_RE.match(line):
            return i
        before += len(line)
    return None


def _headline_list_start(lines: list[str]) -> int | None:
    """Start of a trailing list of headlines with dates, or None."""
    if not any(_is_dated_item(line) for line in lines[-4:]):  # the list reaches the last four lines
        return None
    dated = [i for i, line in enumerate(lines) if _is_dated_item(line)]
    if len(dated) < 2 or dated[-1] < len(lines) - 4:
        return None
    run = [dated[-1]]
    for i in reversed(dated[:-1]):
        if run[-1] - i > 5:
            break
        run.append(i)
    if len(run) < 2:
        return None
    run.reverse()
    gap = int(statistics.median(b - a for a, b in zip(run, run[1:])))
    start = max(0, run[0] - (gap - 1))
    # A dated line that carries its own headline starts its item; a bare date ends one, unless
    # lines follow the last date (then each date heads the headline under it).
    if not is_date_line(lines[run[0]]) or run[-1] < len(lines) - 1:
        start = run[0]
    body_chars = sum(len(line) for line in lines[:start])
    if body_chars < sum(len(line) for line in lines) / 4:
        return None
    return start


def drop_boilerplate_lines(lines: list[str]) -> CleanResult:
    """Prompts and punctuation-only lines anywhere; footers and headline lists at the end."""
    removed: list[Removal] = []
    keep = []
    for line in lines:
        if _PUNCT_ONLY_RE.match(line):
            removed.append(Removal("punctuation", line))
        elif is_prompt(line):
            removed.append(Removal("prompt", line))
        elif is_code(line):
            removed.append(Removal("code", line))
        else:
            keep.append(line)
    while True:
        cut = _footer_start(keep)
        rule = "footer"
        list_cut = _headline_list_start(keep)
        if list_cut is not None and (cut is None or list_cut < cut):
            cut, rule = list_cut, "headline-list"
        if cut is None:
            break
        removed.extend(Removal(rule, line) for line in keep[cut:])
        keep = keep[:cut]
    return CleanResult(keep, removed)


def chain(lines: list[str], steps: Iterable) -> CleanResult:
    removed: list[Removal] = []
    for step in steps:
        result = step(lines)
        lines = result.lines
        removed.extend(result.removed)
    return CleanResult(lines, removed)


def clean_body(lines: list[str]) -> CleanResult:
    """All body rules in order (the watermark rule first: it may hide a prompt or a footer)."""
    return chain(lines, (strip_repeated_affixes, drop_repeated_lines, drop_boilerplate_lines))
