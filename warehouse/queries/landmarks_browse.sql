-- A page of faces that have landmarks, for the image browser.
-- Params: $model_id, $usages (list), $emotions (list), $offset, $limit.
SELECT i.image_id, i.emotion, i.usage, i.file_name
FROM images i JOIN landmarks l USING (image_id)
WHERE l.model_id = $model_id AND list_contains($usages, i.usage) AND list_contains($emotions, i.emotion)
ORDER BY i.image_id
LIMIT $limit OFFSET $offset;
