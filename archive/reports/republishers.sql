-- Sources that mostly republish: the share of copies among what each source published between --since and --until.
SELECT source,
       COUNT(*) AS articles,
       SUM(CASE WHEN role = 'copy' THEN 1 ELSE 0 END) AS copies,
       SUM(CASE WHEN role = 'original' THEN 1 ELSE 0 END) AS originals,
       (200 * SUM(CASE WHEN role = 'copy' THEN 1 ELSE 0 END) + COUNT(*)) / (2 * COUNT(*)) AS copy_percent
FROM report_articles
WHERE source IS NOT NULL AND at >= :since AND at <= :until
GROUP BY source
ORDER BY copy_percent DESC, copies DESC, source
LIMIT :limit
