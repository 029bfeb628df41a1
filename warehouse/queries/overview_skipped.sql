-- Files the latest ingest of $dataset skipped, and why (from the ingests.skipped JSON list).
WITH latest AS (
    SELECT skipped FROM ingests WHERE dataset = $dataset ORDER BY ingest_id DESC LIMIT 1
)
SELECT s.file, s.reason
FROM latest, unnest(from_json(coalesce(latest.skipped, '[]'), '[{"file": "VARCHAR", "reason": "VARCHAR"}]')) AS t(s)
ORDER BY s.file;
