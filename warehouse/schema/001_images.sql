-- Faces and where they came from. One row per face; pixels are the 48x48 grayscale bytes (row-major).
-- Written only by `python -m pipelines ingest` (faceemo/ingest.py), which replaces one data set's rows
-- at a time.
CREATE TABLE IF NOT EXISTS ingests (
    ingest_id      INTEGER PRIMARY KEY,
    dataset        VARCHAR NOT NULL,          -- e.g. 'fer2013'
    source_path    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,          -- of the archive/CSV file's bytes; for a folder, of its
                                              -- sorted (relative path, file sha256) list
    source_bytes   BIGINT,
    layout         VARCHAR NOT NULL,          -- 'image-folders' | 'csv'
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP NOT NULL,
    n_images       INTEGER NOT NULL,
    n_skipped      INTEGER NOT NULL DEFAULT 0,
    skipped        VARCHAR                   -- JSON list of {file, reason}
);                                            -- (more columns in 010_ingest_details.sql)

CREATE TABLE IF NOT EXISTS images (
    image_id    INTEGER PRIMARY KEY,         -- kept across re-ingests for unchanged faces
    dataset     VARCHAR NOT NULL,
    split       VARCHAR NOT NULL,            -- folder split: 'train' | 'test' | 'valid'
    usage       VARCHAR NOT NULL,            -- 'Training' | 'PublicTest' | 'PrivateTest'
    emotion     VARCHAR NOT NULL,            -- lower-case name, see faceemo.labels
    label       TINYINT NOT NULL,            -- FER-2013 integer label
    file_name   VARCHAR NOT NULL,            -- e.g. 'Training_8475486.jpg' (not unique alone)
    source_file VARCHAR NOT NULL,            -- path inside the archive/folder, or 'fer2013.csv:<row>'
    sha256      VARCHAR NOT NULL,            -- of the source file's bytes (CSV: of the 2304 pixel bytes)
    width       SMALLINT NOT NULL,           -- size of the source image; `pixels` is always 48x48
    height      SMALLINT NOT NULL,
    pixels      BLOB NOT NULL,               -- 48*48 uint8, row-major
    mean        REAL NOT NULL,
    std         REAL NOT NULL,
    is_blank    BOOLEAN NOT NULL,            -- near-constant frame (std < faceemo.quality.BLANK_STD)
    ingest_id   INTEGER NOT NULL,
    UNIQUE (dataset, split, emotion, file_name)
);
