-- Table macros the named queries share: each statistic is defined here once.
--
-- keypoint_stats(src): the study's per-coordinate describe(), per emotion, of the faces in the table or
-- CTE named `src` (a string: `FROM keypoint_stats('faces')`), which holds an `emotion` column and one
-- `<keypoint>_x` / `<keypoint>_y` column per keypoint and nothing else. One row per emotion and keypoint:
-- the faces counted, mean, spread, min/max envelope and quartiles of x and y.
CREATE OR REPLACE MACRO keypoint_stats(src) AS TABLE
WITH long AS (
    UNPIVOT (FROM query_table(src)) ON COLUMNS(* EXCLUDE (emotion)) INTO NAME coord VALUE v
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
GROUP BY ALL;
