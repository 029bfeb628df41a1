-- The study's two measures per face from one model's landmarks (the view face_distances, 040_views.sql),
-- also normalized by the maximum over the selected faces (as the study did).
-- Blank frames are left out. Params: $model_id, $usages (list), $emotions (list).
SELECT i.image_id, i.emotion, i.label, i.usage,
       d.eye_nose, d.nose_mouth, d.inter_ocular,
       d.eye_nose / max(d.eye_nose) OVER ()     AS eye_nose_max,
       d.nose_mouth / max(d.nose_mouth) OVER () AS nose_mouth_max,
       d.eye_nose_iod, d.nose_mouth_iod
FROM face_distances d JOIN images i USING (image_id)
WHERE d.model_id = $model_id AND list_contains($usages, i.usage)
  AND list_contains($emotions, i.emotion) AND NOT i.is_blank
ORDER BY i.image_id;
