-- The $limit faces with the lowest pixel standard deviation (blank ones first): what the blank
-- threshold (faceemo.quality.BLANK_STD) separates, to judge it by eye.
SELECT image_id, split, usage, emotion, file_name, mean, std, is_blank, pixels
FROM images
WHERE dataset = $dataset AND list_contains($emotions, emotion)
ORDER BY std, image_id
LIMIT $limit;
