-- The study's per-coordinate describe(), per emotion: mean, spread and min/max envelope of each keypoint.
-- Blank frames are left out (their points say nothing about a face).
-- Params: $model_id, $usages (list), $emotions (list).
WITH faces AS (
    SELECT i.emotion, l.* EXCLUDE (model_id, image_id)
    FROM landmarks l JOIN images i USING (image_id)
    WHERE l.model_id = $model_id AND list_contains($usages, i.usage)
      AND list_contains($emotions, i.emotion) AND NOT i.is_blank
), long AS (
    UNPIVOT faces ON COLUMNS(* EXCLUDE (emotion)) INTO NAME coord VALUE v
)
SELECT emotion,
       regexp_replace(coord, '_[xy]$', '') AS keypoint,
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
