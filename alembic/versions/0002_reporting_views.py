"""reporting views

Views for analysts, with the same columns and the same rows on SQLite and PostgreSQL: times are
text in UTC ('YYYY-MM-DD HH:MM:SS'), delays whole seconds, shares whole percents, so a query
gives identical answers on both. Described column by column in docs/reporting.md.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Dependants after what they read: created in this order, dropped in reverse.
VIEWS = ("report_articles", "report_clusters", "report_copies", "report_sources", "report_days")


def _dialect_sql(postgres: bool) -> dict[str, str]:
    """The few expressions SQLite and PostgreSQL spell differently."""
    if postgres:
        def ts(expr: str) -> str:
            return f"to_char({expr}, 'YYYY-MM-DD HH24:MI:SS')"

        def seconds(later: str, earlier: str) -> str:
            return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier}))) AS BIGINT)"

        sources_list = ("(SELECT string_agg(name, ', ' ORDER BY name COLLATE \"C\") FROM (SELECT DISTINCT s.name AS name "
                        "FROM cluster_members m JOIN articles a ON a.id = m.article_id "
                        "JOIN sources s ON s.id = a.source_id WHERE m.cluster_id = c.id) AS names)")
        whole = "BIGINT"
    else:
        def ts(expr: str) -> str:
            return f"strftime('%Y-%m-%d %H:%M:%S', {expr})"

        def seconds(later: str, earlier: str) -> str:
            return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)"

        # group_concat has no ORDER BY before SQLite 3.44: aggregate an ordered subquery (names
        # compare by bytes, as PostgreSQL's "C" collation does).
        sources_list = ("(SELECT group_concat(name, ', ') FROM (SELECT DISTINCT s.name AS name "
                        "FROM cluster_members m JOIN articles a ON a.id = m.article_id "
                        "JOIN sources s ON s.id = a.source_id WHERE m.cluster_id = c.id ORDER BY s.name))")
        whole = "INTEGER"
    return {"ts": ts, "seconds": seconds, "sources_list": sources_list, "whole": whole}


def _percent(part: str, total: str) -> str:
    """part/total as a whole percent, rounded half up; NULL when total is 0 (integer arithmetic on both)."""
    return f"CASE WHEN {total} > 0 THEN (200 * {part} + {total}) / (2 * {total}) END"


def view_definitions(postgres: bool) -> dict[str, str]:
    d = _dialect_sql(postgres)
    ts, seconds = d["ts"], d["seconds"]
    at = "COALESCE(a.published_at, a.fetched_at)"
    return {
        "report_articles": f"""
SELECT a.id AS article_id, a.title, a.source_id, s.name AS source, a.url,
       {ts(at)} AS at, {ts('a.published_at')} AS published_at, {ts('a.fetched_at')} AS fetched_at,
       a.language, cm.cluster_id AS copy_cluster_id, em.cluster_id AS event_cluster_id,
       cm.role AS role, cc.representative_id AS original_id, a.run_id
FROM articles a
LEFT JOIN sources s ON s.id = a.source_id
LEFT JOIN cluster_members cm ON cm.article_id = a.id AND cm.kind = 'copy'
LEFT JOIN clusters cc ON cc.id = cm.cluster_id
LEFT JOIN cluster_members em ON em.article_id = a.id AND em.kind = 'event'
""",
        "report_clusters": f"""
SELECT c.id AS cluster_id, c.kind, c.event_id, c.size,
       (SELECT COUNT(DISTINCT a.source_id) FROM cluster_members m JOIN articles a ON a.id = m.article_id
        WHERE m.cluster_id = c.id) AS source_count,
       {d['sources_list']} AS sources,
       (SELECT COUNT(*) FROM cluster_members m JOIN cluster_members cm
          ON cm.article_id = m.article_id AND cm.kind = 'copy' AND cm.role = 'copy'
        WHERE m.cluster_id = c.id) AS copies,
       {ts('c.first_seen')} AS first_seen, {ts('c.last_seen')} AS last_seen,
       {ts('c.first_published')} AS first_published, {ts('c.last_published')} AS last_published,
       c.representative_id, r.title AS representative_title, rs.name AS representative_source
FROM clusters c
LEFT JOIN articles r ON r.id = c.representative_id
LEFT JOIN sources rs ON rs.id = r.source_id
WHERE c.status = 'active'
""",
        "report_copies": f"""
SELECT m.article_id, a.title, a.source_id, s.name AS source,
       m.cluster_id AS copy_cluster_id, cc.event_id AS event_cluster_id,
       o.id AS original_id, o.title AS original_title, o.source_id AS original_source_id,
       os.name AS original_source,
       {ts(at)} AS copied_at, {ts('COALESCE(o.published_at, o.fetched_at)')} AS original_at,
       {seconds(at, 'COALESCE(o.published_at, o.fetched_at)')} AS delay_seconds,
       m.similarity
FROM cluster_members m
JOIN clusters cc ON cc.id = m.cluster_id AND cc.status = 'active'
JOIN articles a ON a.id = m.article_id
LEFT JOIN sources s ON s.id = a.source_id
JOIN articles o ON o.id = cc.representative_id
LEFT JOIN sources os ON os.id = o.source_id
WHERE m.kind = 'copy' AND m.role = 'copy'
""",
        "report_sources": f"""
WITH roles AS (
    SELECT a.source_id,
           SUM(CASE WHEN m.role = 'original' THEN 1 ELSE 0 END) AS originals,
           SUM(CASE WHEN m.role = 'copy' THEN 1 ELSE 0 END) AS copies,
           COUNT(*) AS articles
    FROM articles a JOIN cluster_members m ON m.article_id = a.id AND m.kind = 'copy'
    GROUP BY a.source_id
), copied AS (
    SELECT original_source_id AS source_id, COUNT(*) AS copied_elsewhere
    FROM report_copies
    WHERE source_id IS NULL OR original_source_id IS NULL OR source_id <> original_source_id
    GROUP BY original_source_id
), ranked AS (
    SELECT source_id, delay_seconds,
           ROW_NUMBER() OVER (PARTITION BY source_id ORDER BY delay_seconds) AS position,
           COUNT(*) OVER (PARTITION BY source_id) AS n
    FROM report_copies WHERE delay_seconds IS NOT NULL
), medians AS (
    SELECT source_id, CAST(ROUND(AVG(delay_seconds)) AS {d['whole']}) AS median_delay_seconds
    FROM ranked WHERE position IN ((n + 1) / 2, (n + 2) / 2)
    GROUP BY source_id
)
SELECT s.id AS source_id, s.name AS source, s.kind,
       COALESCE(r.articles, 0) AS articles, COALESCE(r.originals, 0) AS originals,
       COALESCE(r.copies, 0) AS copies, COALESCE(c.copied_elsewhere, 0) AS copied_elsewhere,
       {_percent('COALESCE(r.copies, 0)', 'COALESCE(r.articles, 0)')} AS copy_percent,
       md.median_delay_seconds
FROM sources s
LEFT JOIN roles r ON r.source_id = s.id
LEFT JOIN copied c ON c.source_id = s.id
LEFT JOIN medians md ON md.source_id = s.id
""",
        "report_days": f"""
WITH art AS (
    SELECT substr({ts(at)}, 1, 10) AS day, CASE WHEN m.role = 'copy' THEN 1 ELSE 0 END AS is_copy
    FROM articles a LEFT JOIN cluster_members m ON m.article_id = a.id AND m.kind = 'copy'
), clu AS (
    SELECT substr({ts('first_seen')}, 1, 10) AS day, kind FROM clusters WHERE status = 'active'
), per_article AS (
    SELECT day, COUNT(*) AS articles, SUM(is_copy) AS copies FROM art GROUP BY day
), per_cluster AS (
    SELECT day, SUM(CASE WHEN kind = 'copy' THEN 1 ELSE 0 END) AS new_copy_clusters,
           SUM(CASE WHEN kind = 'event' THEN 1 ELSE 0 END) AS new_events
    FROM clu GROUP BY day
), days AS (
    SELECT day FROM per_article UNION SELECT day FROM per_cluster
)
SELECT days.day, COALESCE(pa.articles, 0) AS articles, COALESCE(pa.copies, 0) AS copies,
       COALESCE(pc.new_copy_clusters, 0) AS new_copy_clusters, COALESCE(pc.new_events, 0) AS new_events
FROM days
LEFT JOIN per_article pa ON pa.day = days.day
LEFT JOIN per_cluster pc ON pc.day = days.day
WHERE days.day IS NOT NULL
""",
    }


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, body in view_definitions(postgres).items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
