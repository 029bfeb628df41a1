-- One row per evaluated (model file, mode): lets `evaluate` skip a model whose exact file (sha256) was
-- already evaluated on the same faces (images_fingerprint), so the dashboard launcher's run is a no-op.
CREATE TABLE IF NOT EXISTS evaluations (
    model_id           VARCHAR NOT NULL,
    tta                BOOLEAN NOT NULL,
    sha256             VARCHAR NOT NULL,      -- of the model file evaluated
    images_fingerprint VARCHAR NOT NULL,      -- of the PublicTest + PrivateTest faces evaluated on
    n_images           INTEGER NOT NULL,
    seconds            DOUBLE,
    backend            VARCHAR,
    evaluated_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (model_id, tta)
);
