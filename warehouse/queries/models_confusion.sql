-- Confusion matrix of a model on one usage: counts per (true label, predicted label).
SELECT images.label AS true_label, predictions.label AS predicted_label, count(*) AS n
FROM predictions
JOIN images USING (image_id)
WHERE predictions.model_id = $model_id AND predictions.tta = $tta AND images.usage = $usage
GROUP BY ALL
ORDER BY true_label, predicted_label
