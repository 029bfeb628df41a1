-- The files of one duplicate group (one sha256) of a data set, with their labels and usages.
SELECT image_id, split, usage, emotion, label, file_name, source_file, pixels
FROM images
WHERE dataset = $dataset AND sha256 = $sha256
ORDER BY split, usage, emotion, file_name;
