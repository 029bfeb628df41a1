-- Faces of one usage with a given true label that a model predicted as a given (other) label,
-- most confident mistakes first. Returns the pixels BLOB (48*48 uint8) for display.
SELECT
    images.image_id,
    images.file_name,
    images.label AS true_label,
    predictions.label AS predicted_label,
    greatest(predictions.angry, predictions.disgust, predictions.fear, predictions.happy,
             predictions.sad, predictions.surprise, predictions.neutral) AS confidence,
    images.pixels
FROM predictions
JOIN images USING (image_id)
WHERE predictions.model_id = $model_id
  AND predictions.tta = $tta
  AND images.usage = $usage
  AND images.label = $true_label
  AND predictions.label = $predicted_label
ORDER BY confidence DESC, images.image_id
LIMIT $limit
