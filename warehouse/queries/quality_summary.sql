-- Headline data-quality counts of one data set. A duplicate group is a set of >1 byte-identical source
-- files (same sha256); it counts when any of its files has an emotion in $emotions.
WITH grouped AS (
    SELECT
        sha256,
        count(*) AS n_files,
        count(DISTINCT split) AS n_splits,
        count(DISTINCT usage) AS n_usages,
        count(DISTINCT label) AS n_labels,
        bool_or(list_contains($emotions, emotion)) AS selected
    FROM images
    WHERE dataset = $dataset
    GROUP BY sha256
    HAVING count(*) > 1
),
names AS (
    SELECT file_name
    FROM images
    WHERE dataset = $dataset
    GROUP BY file_name
    HAVING count(*) > 1 AND bool_or(list_contains($emotions, emotion))
)
SELECT
    count(*) AS duplicate_groups,
    coalesce(sum(n_files), 0) AS duplicate_files,
    count(*) FILTER (WHERE n_splits = 1) AS within_split_groups,
    count(*) FILTER (WHERE n_splits > 1) AS cross_split_groups,
    count(*) FILTER (WHERE n_usages > 1) AS cross_usage_groups,
    count(*) FILTER (WHERE n_labels > 1) AS conflicting_groups,
    (SELECT count(*) FROM images
      WHERE dataset = $dataset AND is_blank AND list_contains($emotions, emotion)) AS blank_images,
    (SELECT count(*) FROM names) AS name_collisions
FROM grouped
WHERE selected;
