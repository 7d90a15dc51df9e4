"""Headlines as evidence of identity: a body that does not carry its headline's words.

Nearly every news body repeats words of its headline. One that shares (almost) none of them is
either not the article at all (a scrape failure: a site's slogan, a product widget, a page template
stored as the body under many headlines) or a notice that never names its subject (a dividend
table, "Div 14 cents vs 14 cents prior, payable May 2", under "NORTHWIND TRADERS SETS QUARTERLY
DIVIDEND"). Either way the body
alone does not say which story it is, the headline does:

- two such articles are copies only if their headlines agree too (`bars_copy`), so a slogan under
  580 headlines is not one text reprinted 580 times, nor two companies' identical dividends;
- such an article's event terms come from its headline alone (`archive.pipeline.fingerprint`), so
  the slogan's or widget's words do not make one event of unrelated stories.

Headline words are character bigrams for Chinese and Japanese and words of three letters or more
otherwise, of the folded text (`archive.core.normalize.fold`). A headline too short to judge (under
`MIN_CJK_GRAMS` bigrams or `MIN_WORDS` words) never makes a body stray.
"""

from __future__ import annotations

from archive.core.normalize import cjk_characters, fold, is_cjk, tokens_of_folded

MIN_CJK_GRAMS = 6
MIN_WORDS = 3
STRAY_SHARE = 0.1  # a body holding less than this share of its headline's words is stray
AGREE_JACCARD = 0.5  # headlines whose words overlap this much name one story


def words(text: str, cjk: bool) -> frozenset[str]:
    """The headline words of a text: CJK character bigrams (and the Latin words among them), or
    Latin words of 3 letters or more."""
    return words_of_tokens(tokens_of_folded(fold(text)), cjk)


def words_of_tokens(toks: list[str], cjk: bool) -> frozenset[str]:
    """`words` of a text's token stream (`archive.core.normalize.tokens_of_folded`)."""
    latin = (t for t in toks if len(t) > 2)
    if not cjk:
        return frozenset(latin)
    chars = cjk_characters("".join(toks))  # each CJK character is a token of its own
    return frozenset(chars[i:i + 2] for i in range(len(chars) - 1)).union(latin)


def stray_body(title: str | None, body: str, cjk: bool | None = None,
               body_tokens: list[str] | None = None) -> bool:
    """Whether the body holds less than `STRAY_SHARE` of its (long enough) headline's words.

    `cjk` is `is_cjk(body)` (the script the body is fingerprinted in, so that a flag computed again
    from stored text is the one ingest computed); `body_tokens`, when the caller has them, is
    `tokens_of_folded(fold(body))`.
    """
    if not title:
        return False
    cjk = is_cjk(body) if cjk is None else cjk
    head = words(title, cjk)
    if len(head) < (MIN_CJK_GRAMS if cjk else MIN_WORDS):
        return False
    toks = tokens_of_folded(fold(body)) if body_tokens is None else body_tokens
    if cjk:  # a bigram or word is found in the joined tokens, without building the body's set
        joined = "".join(toks)
        found = sum(1 for w in head if w in joined)
    else:
        found = len(head & set(toks))
    return found < STRAY_SHARE * len(head)


def headlines_agree(a: str | None, b: str | None) -> bool:
    """Whether two headlines name one story: their words' Jaccard is at least `AGREE_JACCARD`."""
    cjk = is_cjk(f"{a or ''} {b or ''}")
    wa, wb = words(a or "", cjk), words(b or "", cjk)
    if not wa or not wb:
        return (a or "").strip() == (b or "").strip()
    return len(wa & wb) / len(wa | wb) >= AGREE_JACCARD


def bars_copy(title_a: str | None, stray_a: bool, title_b: str | None, stray_b: bool) -> bool:
    """Two stray bodies under headlines that disagree are not one text, however alike the bodies."""
    return stray_a and stray_b and not headlines_agree(title_a, title_b)
