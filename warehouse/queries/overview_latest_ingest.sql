-- The latest ingest of each data set (or of $dataset only, when given), with the rows it has now.
SELECT
    i.*,
    epoch(i.finished_at - i.started_at) AS seconds,
    (SELECT count(*) FROM images m WHERE m.dataset = i.dataset) AS rows_now
FROM ingests i
WHERE $dataset IS NULL OR i.dataset = $dataset
QUALIFY row_number() OVER (PARTITION BY i.dataset ORDER BY i.ingest_id DESC) = 1
ORDER BY i.dataset;
