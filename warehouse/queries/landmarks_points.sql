-- Every face's predicted keypoints (96x96 frame) for one model, with its emotion and usage.
-- Params: $model_id, $usages (list of 'Training' | 'PublicTest' | 'PrivateTest'), $emotions (list).
SELECT i.image_id, i.emotion, i.usage, i.is_blank, l.* EXCLUDE (model_id, image_id)
FROM landmarks l JOIN images i USING (image_id)
WHERE l.model_id = $model_id AND list_contains($usages, i.usage) AND list_contains($emotions, i.emotion)
ORDER BY i.image_id;
