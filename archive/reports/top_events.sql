-- The largest events active between --since and --until: size, sources, copies, first and last seen.
SELECT cluster_id, size, source_count, copies, first_seen, last_seen, representative_title, sources
FROM report_clusters
WHERE kind = 'event' AND last_seen >= :since AND first_seen <= :until
ORDER BY size DESC, source_count DESC, cluster_id
LIMIT :limit
