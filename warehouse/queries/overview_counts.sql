-- Faces per split, usage and emotion of one data set (all emotions: this says what is loaded).
SELECT split, usage, emotion, label, count(*) AS images, count(*) FILTER (WHERE is_blank) AS blank
FROM images
WHERE dataset = $dataset
GROUP BY split, usage, emotion, label
ORDER BY split, usage, label;
