-- The study's two measures per face, from one model's landmarks (96x96 frame, pixels):
--   eye_nose   = mean of the two eye-centre → nose-tip distances
--   nose_mouth = nose tip → bottom-lip centre
--   inter_ocular = eye centre → eye centre (the scale-free normaliser)
-- normalized by the maximum over the selected faces (as the study did) and by the inter-ocular distance.
-- Blank frames are left out. Params: $model_id, $usages (list), $emotions (list).
WITH d AS (
    SELECT i.image_id, i.emotion, i.label, i.usage,
           (sqrt(pow(l.left_eye_center_x - l.nose_tip_x, 2) + pow(l.left_eye_center_y - l.nose_tip_y, 2))
          + sqrt(pow(l.right_eye_center_x - l.nose_tip_x, 2) + pow(l.right_eye_center_y - l.nose_tip_y, 2))
           ) / 2 AS eye_nose,
           sqrt(pow(l.nose_tip_x - l.mouth_center_bottom_lip_x, 2)
              + pow(l.nose_tip_y - l.mouth_center_bottom_lip_y, 2)) AS nose_mouth,
           sqrt(pow(l.left_eye_center_x - l.right_eye_center_x, 2)
              + pow(l.left_eye_center_y - l.right_eye_center_y, 2)) AS inter_ocular
    FROM landmarks l JOIN images i USING (image_id)
    WHERE l.model_id = $model_id AND list_contains($usages, i.usage)
      AND list_contains($emotions, i.emotion) AND NOT i.is_blank
)
SELECT *,
       eye_nose / max(eye_nose) OVER ()         AS eye_nose_max,
       nose_mouth / max(nose_mouth) OVER ()     AS nose_mouth_max,
       eye_nose / nullif(inter_ocular, 0)       AS eye_nose_iod,
       nose_mouth / nullif(inter_ocular, 0)     AS nose_mouth_iod
FROM d
ORDER BY image_id;
