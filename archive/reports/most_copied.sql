-- Sources whose originals were republished most by other sites between --since and --until: copies, copying sites, fastest and slowest delay.
SELECT original_source AS source,
       COUNT(*) AS copies_elsewhere,
       COUNT(DISTINCT source) AS copying_sources,
       COUNT(DISTINCT original_id) AS originals_copied,
       MIN(delay_seconds) AS fastest_delay_seconds,
       MAX(delay_seconds) AS slowest_delay_seconds
FROM report_copies
WHERE original_source IS NOT NULL AND (source IS NULL OR source <> original_source)
  AND copied_at >= :since AND copied_at <= :until
GROUP BY original_source
ORDER BY copies_elsewhere DESC, source
LIMIT :limit
