"""The nearest archived articles to a text, a file or a web page, without storing anything.

The query goes through the same extraction and fingerprinting as ingest, then the same index
lookups (copy LSH buckets, exact text hash, the capped event-term postings). Candidates are
ranked on their stored signatures and sizes (estimated Jaccard and containment) and event terms
(cosine); those that could be copies are then verified on exact shingles, as placement does.
The session only reads and is rolled back.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.core import events, headline, matching, sketch
from archive.db import bulk
from archive.db.models import Article, Source
from archive.errors import BadInput, RejectedInput
from archive.pipeline import extract as extraction
from archive.pipeline.extract import MAX_DOCUMENT_BYTES, Document
from archive.pipeline.fingerprint import fingerprint
from archive.pipeline.loaders import Rejection, load

FETCH_TIMEOUT_SECONDS = 20
CANDIDATES_PER_RESULT = 5
# An estimated copy score this low (128 permutations: standard error about 0.04) cannot hide a copy
# (Jaccard >= 0.6 or containment >= 0.7 at the defaults), so exact shingles are compared only from here up.
EXACT_FROM = 0.25


def document_from(path: str | None = None, text: str | None = None, url: str | None = None) -> Document:
    """The query as a Document: exactly one of a file, a text or a URL."""
    given = [v for v in (path, text, url) if v]
    if len(given) != 1:
        raise BadInput("give exactly one of FILE, --text or --url")
    if text:
        return Document(content=text.encode("utf-8"), location="--text", kind="text")
    if url:
        return _fetch(url)
    if not Path(path).is_file():
        raise BadInput(f"{path} is not a file")
    for item in load([path]):
        if isinstance(item, Rejection):
            raise BadInput(f"{item.location}: {item.reason} ({item.detail})")
        return item  # a JSONL file: its first record
    raise BadInput(f"{path} holds no document")


def _fetch(url: str) -> Document:
    if not url.startswith(("http://", "https://")):
        raise BadInput(f"--url {url!r}: only http and https URLs can be fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "news-archive similar"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            content = response.read(MAX_DOCUMENT_BYTES + 1)
            media_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise BadInput(f"could not fetch {url}: {getattr(exc, 'reason', exc)}") from None
    if len(content) > MAX_DOCUMENT_BYTES:
        raise BadInput(f"{url} is larger than {MAX_DOCUMENT_BYTES} bytes")
    kind = "html" if "html" in media_type else "text" if media_type.startswith("text/") else "auto"
    return Document(content=content, location=url, kind=kind, url=url, media_type=media_type,
                    encoding_hint=charset)


def _estimated_copy_score(fp, row) -> float:
    """max(Jaccard, containment of the shorter text) estimated from the stored signature and size."""
    j = sketch.estimated_jaccard(fp.signature, sketch.signature_from_bytes(row.signature))
    a, b = int(fp.shingles.size), int(row.shingle_count or 0)
    if not a or not b:
        return j
    shared = j / (1 + j) * (a + b)  # |A ∩ B| from J = |A ∩ B| / |A ∪ B|
    return max(j, min(shared / min(a, b), 1.0))


def nearest(session: Session, settings: Settings, doc: Document, top: int = 10) -> dict[str, Any]:
    """The `top` archived articles nearest to `doc`, best first, with their clusters."""
    try:
        ex = extraction.extract(doc)
        fp = fingerprint(ex, settings.sketch, settings.event_sketch)
    except RejectedInput as exc:
        raise BadInput(f"{doc.location} cannot be compared: {exc.reason} ({exc.detail})") from None
    config = settings.matching
    hits: Counter[int] = Counter()
    for ids in bulk.postings(session, 0, fp.copy_keys).values():
        hits.update(ids)
    for ids in bulk.texts_by_hash(session, [fp.text_hash], CANDIDATES_PER_RESULT).values():
        hits.update({i: len(fp.copy_keys) for i in ids})
    cap = settings.event_sketch.bucket_limit
    for ids in bulk.capped_postings(session, 1, 0, [k for _, k in fp.event_keys], cap).values():
        hits.update(ids)
    ids = [i for i, _ in hits.most_common(max(top * CANDIDATES_PER_RESULT, config.max_candidates))]
    rows = session.execute(
        select(Article.id, Article.title, Article.url, Article.published_at, Article.signature,
               Article.shingle_count, Article.event_terms, Source.name)
        .outerjoin(Source, Source.id == Article.source_id).where(Article.id.in_(ids))
    ).all() if ids else []
    # Rank on the stored signatures first; exact shingles only for those that can be shown.
    ranked = sorted(rows, key=lambda r: (-_estimated_copy_score(fp, r), -events.cosine(fp.event_terms, r.event_terms or {}),
                                         r.id))[: top * 2]
    likely = [r.id for r in ranked if _estimated_copy_score(fp, r) >= EXACT_FROM]
    shingle_sets = bulk.shingle_sets(session, likely, settings.sketch)
    member_of = bulk.memberships(session, [r.id for r in ranked])
    stray_titles = {}  # a stray body is a copy of another only under an agreeing headline
    if fp.stray_body and shingle_sets:
        stray_titles = {i: title for i, title, text in bulk.titles_and_texts(session, shingle_sets)
                        if headline.stray_body(title, text or "")}
    results = []
    for r in ranked:
        if r.id in shingle_sets:
            ov = matching.overlap(fp.shingles, shingle_sets[r.id])
            jaccard, containment, copy = ov.jaccard, ov.containment, matching.is_copy(ov, config)
            if r.id in stray_titles and headline.bars_copy(ex.title, True, stray_titles[r.id], True):
                copy = False
        else:  # far below any copy threshold: the signature's estimate is shown
            jaccard = sketch.estimated_jaccard(fp.signature, sketch.signature_from_bytes(r.signature))
            containment, copy = _estimated_copy_score(fp, r), False
        cosine = events.cosine(fp.event_terms, r.event_terms or {})
        same_event = matching.event_match(fp.event_terms, r.event_terms or {}, 1, config, fp.language) is not None
        verdict = "copy" if copy else "same event" if same_event else "related"
        results.append({
            "id": r.id, "title": r.title, "source": r.name, "url": r.url,
            "published_at": r.published_at.isoformat(sep=" ", timespec="seconds") if r.published_at else None,
            "jaccard": round(jaccard, 4), "containment": round(containment, 4), "exact": r.id in shingle_sets,
            "event_cosine": round(cosine, 4), "verdict": verdict,
            "copy_cluster": member_of.get(r.id, {}).get("copy"), "event_cluster": member_of.get(r.id, {}).get("event"),
        })
    results.sort(key=lambda x: (x["verdict"] != "copy", -max(x["jaccard"], x["containment"]),
                                -x["event_cosine"], x["id"]))
    return {
        "query": {"location": doc.location, "title": ex.title, "language": fp.language,
                  "shingles": int(fp.shingles.size), "candidates": len(ids)},
        "results": results[:top],
    }
