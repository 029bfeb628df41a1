-- Faces per folder split and emotion of one data set (the data README's train/test rows).
SELECT split, emotion, label, count(*) AS images
FROM images
WHERE dataset = $dataset AND list_contains($emotions, emotion)
GROUP BY split, emotion, label
ORDER BY CASE split WHEN 'train' THEN 0 WHEN 'valid' THEN 1 WHEN 'test' THEN 2 ELSE 3 END, label;
