-- The study's per-coordinate describe(), per emotion: mean, spread and min/max envelope of each keypoint
-- (the macro keypoint_stats, warehouse/schema/050_macros.sql).
-- Blank frames are left out (their points say nothing about a face).
-- Params: $model_id, $usages (list), $emotions (list).
WITH faces AS (
    SELECT i.emotion, l.* EXCLUDE (model_id, image_id)
    FROM landmarks l JOIN images i USING (image_id)
    WHERE l.model_id = $model_id AND list_contains($usages, i.usage)
      AND list_contains($emotions, i.emotion) AND NOT i.is_blank
)
SELECT * FROM keypoint_stats('faces')
ORDER BY emotion, keypoint;
