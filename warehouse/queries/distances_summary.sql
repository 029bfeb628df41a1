-- Per-emotion mean, median and spread of the study's two measures (see distances_per_face.sql).
-- Params: $model_id, $usages (list), $emotions (list).
WITH d AS (
    SELECT i.emotion,
           (sqrt(pow(l.left_eye_center_x - l.nose_tip_x, 2) + pow(l.left_eye_center_y - l.nose_tip_y, 2))
          + sqrt(pow(l.right_eye_center_x - l.nose_tip_x, 2) + pow(l.right_eye_center_y - l.nose_tip_y, 2))
           ) / 2 AS eye_nose,
           sqrt(pow(l.nose_tip_x - l.mouth_center_bottom_lip_x, 2)
              + pow(l.nose_tip_y - l.mouth_center_bottom_lip_y, 2)) AS nose_mouth
    FROM landmarks l JOIN images i USING (image_id)
    WHERE l.model_id = $model_id AND list_contains($usages, i.usage)
      AND list_contains($emotions, i.emotion) AND NOT i.is_blank
)
SELECT emotion, count(*) AS n,
       avg(eye_nose) AS eye_nose_mean, median(eye_nose) AS eye_nose_median, stddev_samp(eye_nose) AS eye_nose_std,
       avg(nose_mouth) AS nose_mouth_mean, median(nose_mouth) AS nose_mouth_median,
       stddev_samp(nose_mouth) AS nose_mouth_std
FROM d
GROUP BY emotion
ORDER BY emotion;
