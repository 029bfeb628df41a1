-- Faces per usage and emotion of one data set, with each emotion's share of its usage (of ALL
-- emotions, so a filtered chart still shows true class shares). Only emotions in $emotions are listed.
WITH counts AS (
    SELECT usage, emotion, label, count(*) AS images
    FROM images
    WHERE dataset = $dataset
    GROUP BY usage, emotion, label
),
shares AS (
    SELECT *, 100.0 * images / sum(images) OVER (PARTITION BY usage) AS percent
    FROM counts
)
SELECT usage, emotion, label, images, percent
FROM shares
WHERE list_contains($emotions, emotion)
ORDER BY CASE usage WHEN 'Training' THEN 0 WHEN 'PublicTest' THEN 1 WHEN 'PrivateTest' THEN 2 ELSE 3 END, label;
