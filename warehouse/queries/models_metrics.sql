-- Every stored metric of a model (usage, tta, metric, value).
SELECT usage, tta, metric, value FROM metrics WHERE model_id = $model_id ORDER BY usage, tta, metric
