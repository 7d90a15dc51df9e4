-- Per day between --since and --until: articles, copies, new copy clusters and new events.
SELECT day, articles, copies, new_copy_clusters, new_events
FROM report_days
WHERE day >= substr(:since, 1, 10) AND day <= substr(:until, 1, 10)
ORDER BY day
LIMIT :limit
