-- Per-epoch training history of a model's most recent run, long format (epoch, metric, value).
WITH latest AS (
    SELECT run_id FROM runs WHERE model_id = $model_id ORDER BY started_at DESC LIMIT 1
)
SELECT history.epoch, history.metric, history.value
FROM history
JOIN latest USING (run_id)
ORDER BY history.epoch, history.metric
