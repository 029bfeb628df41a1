-- One face with its predicted keypoints. Params: $model_id, $image_id.
SELECT i.image_id, i.emotion, i.usage, i.file_name, i.pixels, l.* EXCLUDE (model_id, image_id)
FROM images i JOIN landmarks l USING (image_id)
WHERE l.model_id = $model_id AND i.image_id = $image_id;
