-- Views the pages' queries build on: each measure is defined here once.
--
-- face_distances: the study's two measures per face and landmark model, in pixels of the 96x96 frame:
--   eye_nose     = mean of the two eye-centre → nose-tip distances
--   nose_mouth   = nose tip → bottom-lip centre
--   inter_ocular = eye centre → eye centre (the scale-free normaliser)
-- and the two measures divided by the inter-ocular distance (NULL where it is 0). The division by the
-- maximum over a selection of faces (as the study did) depends on the selection: distances_per_face.sql.
CREATE OR REPLACE VIEW face_distances AS
SELECT model_id, image_id, eye_nose, nose_mouth, inter_ocular,
       eye_nose / nullif(inter_ocular, 0)   AS eye_nose_iod,
       nose_mouth / nullif(inter_ocular, 0) AS nose_mouth_iod
FROM (
    SELECT model_id, image_id,
           (sqrt(pow(left_eye_center_x - nose_tip_x, 2) + pow(left_eye_center_y - nose_tip_y, 2))
          + sqrt(pow(right_eye_center_x - nose_tip_x, 2) + pow(right_eye_center_y - nose_tip_y, 2))
           ) / 2 AS eye_nose,
           sqrt(pow(nose_tip_x - mouth_center_bottom_lip_x, 2)
              + pow(nose_tip_y - mouth_center_bottom_lip_y, 2)) AS nose_mouth,
           sqrt(pow(left_eye_center_x - right_eye_center_x, 2)
              + pow(left_eye_center_y - right_eye_center_y, 2)) AS inter_ocular
    FROM landmarks
);
