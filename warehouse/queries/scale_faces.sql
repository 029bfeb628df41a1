-- Every face of the warehouse for the Ray engine (`landmarks --engine ray`), in image_id order.
SELECT image_id, dataset, split, emotion, file_name, sha256, pixels
FROM images
ORDER BY image_id;
