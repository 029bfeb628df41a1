-- Models, their training runs and what they predicted.
CREATE TABLE IF NOT EXISTS models (
    model_id      VARCHAR PRIMARY KEY,       -- e.g. 'emotion_vgg_v1'; equals the file stem in models/
    task          VARCHAR NOT NULL,          -- 'emotion' | 'landmarks'
    architecture  VARCHAR NOT NULL,          -- registry name, e.g. 'study_cnn'
    params        BIGINT NOT NULL,
    file          VARCHAR NOT NULL,          -- path relative to the repo root
    file_bytes    BIGINT,
    sha256        VARCHAR,
    input_size    INTEGER,
    backend       VARCHAR,                   -- keras backend it was trained on
    device        VARCHAR,                   -- e.g. 'cpu', 'NVIDIA H100'
    trained_on    VARCHAR,                   -- data + split it was fit on
    selected_on   VARCHAR,                   -- split used for model selection
    epochs        INTEGER,
    train_seconds DOUBLE,
    card          VARCHAR,                   -- the model card, markdown
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
    run_id      VARCHAR PRIMARY KEY,
    model_id    VARCHAR NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    config      VARCHAR                      -- JSON of the command-line options
);

CREATE TABLE IF NOT EXISTS history (
    run_id   VARCHAR NOT NULL,
    epoch    INTEGER NOT NULL,
    metric   VARCHAR NOT NULL,               -- 'loss', 'accuracy', 'val_loss', ...
    value    DOUBLE NOT NULL,
    PRIMARY KEY (run_id, epoch, metric)
);

CREATE TABLE IF NOT EXISTS predictions (
    model_id  VARCHAR NOT NULL,
    image_id  INTEGER NOT NULL,
    tta       BOOLEAN NOT NULL DEFAULT FALSE,
    label     TINYINT NOT NULL,              -- predicted FER-2013 label
    angry     REAL NOT NULL,
    disgust   REAL NOT NULL,
    fear      REAL NOT NULL,
    happy     REAL NOT NULL,
    sad       REAL NOT NULL,
    surprise  REAL NOT NULL,
    neutral   REAL NOT NULL,
    PRIMARY KEY (model_id, image_id, tta)
);

CREATE TABLE IF NOT EXISTS metrics (
    model_id  VARCHAR NOT NULL,
    usage     VARCHAR NOT NULL,              -- 'PublicTest' | 'PrivateTest' | held-out set name
    tta       BOOLEAN NOT NULL DEFAULT FALSE,
    metric    VARCHAR NOT NULL,              -- 'accuracy', 'macro_f1', 'recall_angry', 'rmse', ...
    value     DOUBLE NOT NULL,
    PRIMARY KEY (model_id, usage, tta, metric)
);
