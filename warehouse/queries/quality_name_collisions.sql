-- File names used by more than one face of a data set (FER-2013 has two, in different emotion
-- folders): a file name alone does not identify a face.
WITH names AS (
    SELECT file_name
    FROM images
    WHERE dataset = $dataset
    GROUP BY file_name
    HAVING count(*) > 1 AND bool_or(list_contains($emotions, emotion))
)
SELECT i.file_name, i.split, i.usage, i.emotion, i.label, i.source_file, i.sha256, i.image_id, i.pixels
FROM images i JOIN names USING (file_name)
WHERE i.dataset = $dataset
ORDER BY i.file_name, i.label;
