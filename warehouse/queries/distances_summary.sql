-- Per-emotion mean, median and spread of the study's two measures (the view face_distances).
-- Blank frames are left out. Params: $model_id, $usages (list), $emotions (list).
SELECT i.emotion, count(*) AS n,
       avg(d.eye_nose) AS eye_nose_mean, median(d.eye_nose) AS eye_nose_median,
       stddev_samp(d.eye_nose) AS eye_nose_std,
       avg(d.nose_mouth) AS nose_mouth_mean, median(d.nose_mouth) AS nose_mouth_median,
       stddev_samp(d.nose_mouth) AS nose_mouth_std
FROM face_distances d JOIN images i USING (image_id)
WHERE d.model_id = $model_id AND list_contains($usages, i.usage)
  AND list_contains($emotions, i.emotion) AND NOT i.is_blank
GROUP BY i.emotion
ORDER BY i.emotion;
