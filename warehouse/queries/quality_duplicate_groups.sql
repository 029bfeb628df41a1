-- Byte-identical duplicate groups of one data set, one row per group, with one copy of the face.
-- $kind: 'all' | 'within' (one split) | 'cross' (across splits, e.g. train/test) | 'conflict' (labels differ).
-- A group is listed when any of its files has an emotion in $emotions.
WITH grouped AS (
    SELECT
        sha256,
        count(*) AS files,
        string_agg(DISTINCT split, ' + ' ORDER BY split) AS splits,
        string_agg(DISTINCT usage, ' + ' ORDER BY usage) AS usages,
        string_agg(DISTINCT emotion, ' + ' ORDER BY emotion) AS emotions,
        count(DISTINCT split) > 1 AS crosses_splits,
        count(DISTINCT label) > 1 AS conflicting,
        bool_and(is_blank) AS blank,
        string_agg(split || '/' || emotion || '/' || file_name, ', ' ORDER BY split, emotion, file_name) AS members,
        min(image_id) AS image_id,
        arg_min(pixels, image_id) AS pixels,
        bool_or(list_contains($emotions, emotion)) AS selected
    FROM images
    WHERE dataset = $dataset
    GROUP BY sha256
    HAVING count(*) > 1
)
SELECT * EXCLUDE (selected)
FROM grouped
WHERE selected
  AND CASE $kind
        WHEN 'within' THEN NOT crosses_splits
        WHEN 'cross' THEN crosses_splits
        WHEN 'conflict' THEN conflicting
        ELSE TRUE
      END
ORDER BY files DESC, conflicting DESC, crosses_splits DESC, sha256;
