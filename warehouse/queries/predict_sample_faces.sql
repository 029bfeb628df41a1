-- Sample faces for the Predict page: up to $per_emotion non-blank faces of each emotion in $emotions,
-- PrivateTest first (the split no model was fit or selected on), then by id, so the choice is stable.
SELECT image_id, usage, emotion, label, file_name, width, height, pixels
FROM images
WHERE list_contains($emotions, emotion) AND NOT is_blank
QUALIFY row_number() OVER (PARTITION BY emotion ORDER BY usage <> 'PrivateTest', image_id) <= $per_emotion
ORDER BY label, image_id
