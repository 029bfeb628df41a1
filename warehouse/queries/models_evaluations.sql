-- What `evaluate` has already done: model file hash and faces fingerprint per (model, mode).
SELECT model_id, tta, sha256, images_fingerprint, n_images, evaluated_at FROM evaluations
