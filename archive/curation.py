"""Manual curation that lasts: merge two clusters, split articles off, detach one article.

Each change runs in the caller's transaction and leaves three traces: the memberships moved, a
`cluster_history` row per cluster touched (with the actor and the note), and `decisions` rows
between articles (must-link for what was put together, cannot-link for what was pulled apart).
Automatic ingest never moves a placed article, and `archive recluster` honours the decisions
explicitly, so a manual change survives both.

Copy clusters nest in events: merging two copy clusters also puts their articles in one event;
splitting or detaching at event level moves whole copy clusters.
"""

from __future__ import annotations

import dataclasses
import getpass
from collections import Counter
from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archive.core import anchors, matching
from archive.core.events import EventConfig
from archive.db import bulk, queries
from archive.db.models import (
    COPY,
    COPY_ROLE,
    EVENT,
    ORIGINAL,
    Article,
    Cluster,
    ClusterHistory,
    ClusterMember,
    Decision,
    utcnow,
)
from archive.errors import BadInput

MUST_LINK = "must-link"
CANNOT_LINK = "cannot-link"
CENTROID_TERMS = EventConfig().centroid_terms  # as placement keeps it: the running sum of member vectors, heaviest terms


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who made a manual change and why: `--by` (default: the OS user) and `--note`."""

    name: str
    note: str | None = None

    @classmethod
    def current(cls, name: str | None = None, note: str | None = None) -> "Actor":
        return cls(name or _os_user(), note)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): still say something true
        return "unknown"


def merge(session: Session, keep_id: int, other_id: int, actor: Actor) -> dict:
    """Move every article of `other_id` into `keep_id` (same kind); `other_id` is marked merged."""
    keep, other = _active(session, keep_id), _active(session, other_id)
    if keep.id == other.id:
        raise BadInput(f"cluster {keep.id} cannot be merged with itself")
    if keep.kind != other.kind:
        raise BadInput(f"cluster {keep.id} is {_a(keep.kind)} cluster and {other.id} {_a(other.kind)} cluster: "
                       "merge clusters of one kind")
    moved = _member_ids(session, other.id)
    anchor = keep.representative_id
    if keep.kind == COPY:
        _move(session, moved, other.id, keep.id)
        if other.event_id != keep.event_id:
            _move_to_event(session, moved, keep.event_id)
    else:
        _move(session, moved, other.id, keep.id)
        session.execute(update(Cluster).where(Cluster.event_id == other.id).values(event_id=keep.id))
    _retire(session, other, into=keep.id)
    # Every member, not only the moved ones, is tied to the anchor: a re-clustering replays the
    # articles in order, and the cluster must hold together whichever of them comes first.
    together = _member_ids(session, keep.id)
    _decide(session, "merge", keep.kind, MUST_LINK, [(anchor, m) for m in together], actor)
    _history(session, "merge", keep.id, other.id, None, actor)
    _history(session, "merged", other.id, keep.id, None, actor)
    refresh(session, keep)
    return {"kept": keep.id, "merged": other.id, "kind": keep.kind, "moved": len(moved), "size": keep.size}


def split(session: Session, cluster_id: int, article_ids: Sequence[int], actor: Actor) -> dict:
    """Move the named articles out of a cluster into a new cluster of the same kind, together.

    At event level each named article takes its whole copy cluster along.
    """
    cluster = _active(session, cluster_id)
    members = set(_member_ids(session, cluster.id))
    wanted = list(dict.fromkeys(article_ids))
    strangers = [a for a in wanted if a not in members]
    if strangers:
        raise BadInput(f"article(s) {', '.join(map(str, strangers))} are not in {cluster.kind} cluster {cluster.id}")
    if cluster.kind == EVENT:
        wanted = _with_copy_clusters(session, wanted)
    stay = sorted(members - set(wanted))
    if not stay:
        raise BadInput(f"splitting every article off cluster {cluster.id} would leave it empty: name fewer")
    new = _new_cluster(session, cluster.kind, min(wanted), actor, f"split from {cluster.id}")
    _move(session, wanted, cluster.id, new.id)
    if cluster.kind == COPY:
        new.event_id = cluster.event_id
    else:
        copies = {m[COPY] for m in bulk.memberships(session, wanted).values() if COPY in m}
        session.execute(update(Cluster).where(Cluster.id.in_(copies)).values(event_id=new.id))
    session.flush()
    _decide(session, "split", cluster.kind, MUST_LINK,
            [(wanted[0], a) for a in wanted[1:]] + [(stay[0], a) for a in stay[1:]], actor)
    _decide(session, "split", cluster.kind, CANNOT_LINK, [(a, b) for a in wanted for b in stay], actor)
    _history(session, "split", cluster.id, new.id, None, actor)
    refresh(session, cluster)
    refresh(session, new)
    return {"cluster": cluster.id, "new_cluster": new.id, "kind": cluster.kind, "moved": wanted,
            "size": cluster.size, "new_size": new.size}


def detach(session: Session, article_id: int, actor: Actor, level: str = COPY) -> dict:
    """Take one article out of its copy cluster (level copy) or out of its event (level event,
    together with any copies it has, which then form their own event)."""
    queries.article(session, article_id)
    member_of = bulk.memberships(session, [article_id]).get(article_id, {})
    if level not in member_of:
        raise BadInput(f"article {article_id} is in no {level} cluster")
    if level == COPY:
        if len(_member_ids(session, member_of[COPY])) == 1:
            raise BadInput(f"article {article_id} is alone in copy cluster {member_of[COPY]}: nothing to detach from")
        return {"level": COPY, **split(session, member_of[COPY], [article_id], actor)}
    if len(_member_ids(session, member_of[COPY])) > 1:
        split(session, member_of[COPY], [article_id], actor)
    if len(_member_ids(session, member_of[EVENT])) == 1:
        raise BadInput(f"article {article_id} is alone in event {member_of[EVENT]}: nothing to detach from")
    return {"level": EVENT, **split(session, member_of[EVENT], [article_id], actor)}


def decisions(session: Session, limit: int | None = None) -> list[dict]:
    """The manual decisions, newest first."""
    q = select(Decision).order_by(Decision.id.desc())
    if limit:
        q = q.limit(limit)
    return [{"id": d.id, "at": d.at.isoformat(sep=" ", timespec="seconds"), "actor": d.actor, "note": d.note,
             "action": d.action, "level": d.level, "link": d.link, "article_a": d.article_a,
             "article_b": d.article_b} for d in session.scalars(q)]


def linked_pairs(session: Session) -> dict[str, dict[frozenset[int], str]]:
    """level -> {pair of articles: must-link or cannot-link}; the latest decision on a pair wins."""
    out: dict[str, dict[frozenset[int], str]] = {COPY: {}, EVENT: {}}
    for level, link, a, b in session.execute(
        select(Decision.level, Decision.link, Decision.article_a, Decision.article_b).order_by(Decision.id)
    ):
        if b is not None and a != b:
            out.setdefault(level, {})[frozenset((a, b))] = link
    return out


# -- keeping clusters consistent -----------------------------------------------------------------


def refresh(session: Session, cluster: Cluster) -> None:
    """Recompute a cluster's size, times, original (copy) or centroid (event) from its members."""
    session.flush()
    rows = session.execute(
        select(Article.id, Article.published_at, Article.fetched_at, Article.event_terms)
        .join(ClusterMember, ClusterMember.article_id == Article.id)
        .where(ClusterMember.cluster_id == cluster.id)
    ).all()
    if not rows:
        cluster.size = 0
        return
    seen = [r.published_at or r.fetched_at for r in rows]
    published = [r.published_at for r in rows if r.published_at]
    cluster.size = len(rows)
    cluster.first_seen, cluster.last_seen = min(seen), max(seen)
    cluster.first_published = min(published) if published else None
    cluster.last_published = max(published) if published else None
    cluster.updated_at = utcnow()
    if cluster.kind == COPY:
        members = [matching.Candidate(*row[:7]) for row in bulk.copy_members(session, cluster.id)]
        cluster.representative_id, cluster.original_reason = matching.choose_original(members)
        for member in session.scalars(select(ClusterMember).where(ClusterMember.cluster_id == cluster.id)):
            member.role = ORIGINAL if member.article_id == cluster.representative_id else COPY_ROLE
    else:
        cluster.centroid = centroid_sum(r.event_terms or {} for r in rows)
        ids = {r.id for r in rows}
        if cluster.representative_id not in ids:
            cluster.representative_id = min(rows, key=lambda r: (r.published_at or r.fetched_at, r.id)).id


def centroid_sum(vectors: Iterable[dict[str, float]]) -> dict[str, float]:
    """An event's centroid as placement stores it: the sum of member vectors, heaviest terms kept."""
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    return anchors.truncate({t: round(w, 5) for t, w in total.items()}, CENTROID_TERMS)


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _active(session: Session, cluster_id: int) -> Cluster:
    cluster = queries.cluster(session, cluster_id)
    if cluster.status != "active":
        raise BadInput(f"cluster {cluster_id} was merged into {cluster.merged_into}: use that cluster")
    return cluster


def _member_ids(session: Session, cluster_id: int) -> list[int]:
    return list(session.scalars(select(ClusterMember.article_id).where(ClusterMember.cluster_id == cluster_id)
                                .order_by(ClusterMember.article_id)))


def _with_copy_clusters(session: Session, article_ids: list[int]) -> list[int]:
    """The articles plus every article sharing a copy cluster with one of them, in id order."""
    copies = {m[COPY] for m in bulk.memberships(session, article_ids).values() if COPY in m}
    mates = session.scalars(select(ClusterMember.article_id).where(ClusterMember.cluster_id.in_(copies)))
    return sorted(set(article_ids) | set(mates))


def _move(session: Session, article_ids: Sequence[int], from_id: int, to_id: int) -> None:
    session.flush()
    session.execute(
        update(ClusterMember)
        .where(ClusterMember.cluster_id == from_id, ClusterMember.article_id.in_(list(article_ids)))
        .values(cluster_id=to_id, evidence={"manual": f"moved from cluster {from_id}"})
        .execution_options(synchronize_session=False)
    )
    session.expire_all()


def _move_to_event(session: Session, article_ids: Sequence[int], event_id: int) -> None:
    """Put the articles in event `event_id`; events left empty are retired into it."""
    old = {m[EVENT] for m in bulk.memberships(session, article_ids).values() if EVENT in m} - {event_id}
    for old_id in old:
        _move(session, article_ids, old_id, event_id)
        old_event = session.get(Cluster, old_id)
        refresh(session, old_event)
        if old_event.size == 0:
            _retire(session, old_event, into=event_id)
    refresh(session, session.get(Cluster, event_id))


def _retire(session: Session, cluster: Cluster, into: int) -> None:
    cluster.status, cluster.merged_into, cluster.size = "merged", into, 0
    cluster.updated_at = utcnow()


def _new_cluster(session: Session, kind: str, representative: int, actor: Actor, detail: str) -> Cluster:
    cluster = Cluster(kind=kind, representative_id=representative, size=0)
    session.add(cluster)
    session.flush()
    _history(session, "create", cluster.id, None, representative, actor, detail)
    return cluster


def _decide(session: Session, action: str, level: str, link: str, pairs: Iterable[tuple[int, int]],
            actor: Actor) -> None:
    now = utcnow()
    session.add_all(Decision(at=now, actor=actor.name, note=actor.note, action=action, level=level, link=link,
                             article_a=a, article_b=b) for a, b in pairs if a != b)


def _history(session: Session, action: str, cluster_id: int, other: int | None, article: int | None,
             actor: Actor, detail: str | None = None) -> None:
    note = "; ".join(filter(None, [detail, actor.note]))
    session.add(ClusterHistory(action=action, cluster_id=cluster_id, other_cluster_id=other, article_id=article,
                               actor=actor.name, detail=note or None))
