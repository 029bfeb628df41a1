-- Faces of the given usages for training/evaluation, with the flags the trainer filters on.
-- $usages: list of usages, e.g. ['Training', 'PublicTest'].
-- test_duplicate: a Training face byte-identical to a PublicTest/PrivateTest face (leaks the test set).
SELECT
    i.image_id,
    i.usage,
    i.label,
    i.pixels,
    i.is_blank,
    (i.usage = 'Training' AND i.sha256 IN (SELECT sha256 FROM images WHERE usage <> 'Training')) AS test_duplicate
FROM images AS i
WHERE list_contains($usages, i.usage)
ORDER BY i.image_id
