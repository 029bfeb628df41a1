-- What the ingest step records beyond 001 (kept apart so warehouses made before it get the columns).
ALTER TABLE ingests ADD COLUMN IF NOT EXISTS source_kind VARCHAR;       -- 'zip' | 'folder' | 'file'
ALTER TABLE ingests ADD COLUMN IF NOT EXISTS reader_version INTEGER;    -- faceemo.readers.READER_VERSION
ALTER TABLE ingests ADD COLUMN IF NOT EXISTS n_converted INTEGER;       -- converted to gray / resized
