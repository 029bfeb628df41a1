-- A model's stored probabilities in one mode (plain or TTA), one row per face: an ensemble's evaluation
-- averages its members' instead of running them again.
SELECT image_id, angry, disgust, fear, happy, sad, surprise, neutral
FROM predictions
WHERE model_id = $model_id AND tta = $tta
