-- 48x48 pixels of the faces behind one model's landmarks (for per-emotion mean faces).
-- Params: $model_id, $usages (list), $emotions (list).
SELECT i.emotion, i.pixels
FROM landmarks l JOIN images i USING (image_id)
WHERE l.model_id = $model_id AND list_contains($usages, i.usage)
  AND list_contains($emotions, i.emotion) AND NOT i.is_blank;
