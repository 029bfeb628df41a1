-- Emotion models with their headline metrics per split (plain and with test-time augmentation).
WITH m AS (
    SELECT
        model_id,
        max(value) FILTER (WHERE usage = 'PublicTest'  AND NOT tta AND metric = 'accuracy') AS public_accuracy,
        max(value) FILTER (WHERE usage = 'PublicTest'  AND NOT tta AND metric = 'macro_f1') AS public_macro_f1,
        max(value) FILTER (WHERE usage = 'PrivateTest' AND NOT tta AND metric = 'accuracy') AS private_accuracy,
        max(value) FILTER (WHERE usage = 'PrivateTest' AND NOT tta AND metric = 'macro_f1') AS private_macro_f1,
        max(value) FILTER (WHERE usage = 'PublicTest'  AND tta AND metric = 'accuracy') AS public_accuracy_tta,
        max(value) FILTER (WHERE usage = 'PrivateTest' AND tta AND metric = 'accuracy') AS private_accuracy_tta,
        bool_or(tta) AS has_tta
    FROM metrics
    GROUP BY model_id
)
SELECT
    models.model_id,
    models.architecture,
    models.params,
    models.file_bytes,
    models.backend,
    models.device,
    models.epochs,
    models.train_seconds,
    models.trained_on,
    models.selected_on,
    models.created_at,
    m.public_accuracy,
    m.public_macro_f1,
    m.private_accuracy,
    m.private_macro_f1,
    m.public_accuracy_tta,
    m.private_accuracy_tta,
    coalesce(m.has_tta, false) AS has_tta,
    m.model_id IS NOT NULL AS evaluated
FROM models
LEFT JOIN m USING (model_id)
WHERE models.task = 'emotion'
ORDER BY m.private_accuracy DESC NULLS LAST, models.model_id
