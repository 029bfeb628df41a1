-- Blank (near-constant) faces of one data set with an emotion in $emotions.
SELECT image_id, split, usage, emotion, file_name, sha256, mean, std, pixels
FROM images
WHERE dataset = $dataset AND is_blank AND list_contains($emotions, emotion)
ORDER BY split, usage, emotion, file_name;
