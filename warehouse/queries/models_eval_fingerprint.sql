-- A fingerprint of the faces `evaluate` scores (PublicTest + PrivateTest): changes when they change.
SELECT
    count(*) AS n_images,
    coalesce(bit_xor(hash(image_id, sha256, label)), 0)::VARCHAR AS fingerprint
FROM images
WHERE usage IN ('PublicTest', 'PrivateTest')
