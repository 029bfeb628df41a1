-- Up to $per_emotion random faces per emotion (reproducible for a given $seed), of one data set,
-- for emotions in $emotions and usage $usage ('all' for every usage).
SELECT image_id, split, usage, emotion, label, file_name, pixels
FROM (
    SELECT *, row_number() OVER (PARTITION BY emotion ORDER BY hash(image_id, $seed)) AS k
    FROM images
    WHERE dataset = $dataset AND list_contains($emotions, emotion) AND ($usage = 'all' OR usage = $usage)
)
WHERE k <= $per_emotion
ORDER BY label, k;
