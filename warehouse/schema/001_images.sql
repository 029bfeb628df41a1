-- Faces and where they came from. One row per face; pixels are the 48x48 grayscale bytes (row-major).
CREATE TABLE IF NOT EXISTS ingests (
    ingest_id      INTEGER PRIMARY KEY,
    dataset        VARCHAR NOT NULL,          -- e.g. 'fer2013'
    source_path    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,          -- of the archive file (or of the sorted file list of a folder)
    source_bytes   BIGINT,
    layout         VARCHAR NOT NULL,          -- 'image-folders' | 'csv'
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP NOT NULL,
    n_images       INTEGER NOT NULL,
    n_skipped      INTEGER NOT NULL DEFAULT 0,
    skipped        VARCHAR                   -- JSON list of {file, reason}
);

CREATE TABLE IF NOT EXISTS images (
    image_id    INTEGER PRIMARY KEY,
    dataset     VARCHAR NOT NULL,
    split       VARCHAR NOT NULL,            -- folder split: 'train' | 'test' | 'valid'
    usage       VARCHAR NOT NULL,            -- 'Training' | 'PublicTest' | 'PrivateTest'
    emotion     VARCHAR NOT NULL,            -- lower-case name, see faceemo.labels
    label       TINYINT NOT NULL,            -- FER-2013 integer label
    file_name   VARCHAR NOT NULL,            -- e.g. 'Training_8475486.jpg' (not unique alone)
    source_file VARCHAR NOT NULL,            -- path inside the archive/folder, or 'fer2013.csv:<row>'
    sha256      VARCHAR NOT NULL,            -- of the decoded 48x48 pixels' source bytes
    width       SMALLINT NOT NULL,
    height      SMALLINT NOT NULL,
    pixels      BLOB NOT NULL,               -- 48*48 uint8, row-major
    mean        REAL NOT NULL,
    std         REAL NOT NULL,
    is_blank    BOOLEAN NOT NULL,            -- near-constant frame (std below a threshold)
    ingest_id   INTEGER NOT NULL,
    UNIQUE (dataset, split, emotion, file_name)
);
