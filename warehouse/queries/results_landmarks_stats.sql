-- landmarks_stats for one attached result set, per PREDICTED emotion, in the 96x96 frame of each face's
-- crop (the frame_* columns, renamed without the prefix: the frame the models saw, and the one the
-- warehouse's landmarks use). The statistics: the macro keypoint_stats (warehouse/schema/050_macros.sql).
-- Params: $view, $emotions (list).
WITH faces AS (
    SELECT emotion, COLUMNS('^frame_(.*)$') AS '\1'
    FROM query_table($view)
    WHERE status = 'ok' AND emotion IS NOT NULL AND frame_nose_tip_x IS NOT NULL
      AND list_contains($emotions, emotion)
)
SELECT * FROM keypoint_stats('faces')
ORDER BY emotion, keypoint;
