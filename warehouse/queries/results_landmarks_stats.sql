-- landmarks_stats for one attached result set, per PREDICTED emotion, in the 96x96 frame of each face's
-- crop (the frame_* columns: the frame the models saw, and the one the warehouse's landmarks use).
-- Params: $view, $emotions (list).
WITH faces AS (
    SELECT emotion, COLUMNS('^frame_')
    FROM query_table($view)
    WHERE status = 'ok' AND emotion IS NOT NULL AND frame_nose_tip_x IS NOT NULL
      AND list_contains($emotions, emotion)
), long AS (
    UNPIVOT faces ON COLUMNS(* EXCLUDE (emotion)) INTO NAME coord VALUE v
)
SELECT emotion,
       regexp_replace(regexp_replace(coord, '^frame_', ''), '_[xy]$', '') AS keypoint,
       count(*) FILTER (WHERE coord LIKE '%_x')            AS n,
       avg(v) FILTER (WHERE coord LIKE '%_x')              AS mean_x,
       avg(v) FILTER (WHERE coord LIKE '%_y')              AS mean_y,
       stddev_samp(v) FILTER (WHERE coord LIKE '%_x')      AS std_x,
       stddev_samp(v) FILTER (WHERE coord LIKE '%_y')      AS std_y,
       min(v) FILTER (WHERE coord LIKE '%_x')              AS min_x,
       max(v) FILTER (WHERE coord LIKE '%_x')              AS max_x,
       min(v) FILTER (WHERE coord LIKE '%_y')              AS min_y,
       max(v) FILTER (WHERE coord LIKE '%_y')              AS max_y,
       quantile_cont(v, 0.25) FILTER (WHERE coord LIKE '%_x') AS q25_x,
       quantile_cont(v, 0.75) FILTER (WHERE coord LIKE '%_x') AS q75_x,
       quantile_cont(v, 0.25) FILTER (WHERE coord LIKE '%_y') AS q25_y,
       quantile_cont(v, 0.75) FILTER (WHERE coord LIKE '%_y') AS q75_y
FROM long
GROUP BY ALL
ORDER BY emotion, keypoint;
