-- Predicted emotions of one attached result set, shaped like balance_counts (one "usage": the set's
-- name): faces per predicted emotion and each one's share of ALL faces with an emotion, so a filtered
-- chart still shows true shares. Params: $view, $label, $emotions (list).
WITH counts AS (
    SELECT emotion, count(*) AS images, avg(confidence) AS mean_confidence
    FROM query_table($view)
    WHERE status = 'ok' AND emotion IS NOT NULL
    GROUP BY emotion
), shares AS (
    SELECT *, 100.0 * images / sum(images) OVER () AS percent FROM counts
)
SELECT $label AS usage, emotion, images, percent, mean_confidence
FROM shares
WHERE list_contains($emotions, emotion)
ORDER BY emotion;  -- the page orders them as faceemo.labels does
