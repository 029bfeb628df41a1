-- Result sets attached with `python -m pipelines attach-results DIR --name NAME`: folders of Parquet
-- partitions written by `predict` / `landmarks --engine ray`, read in place (never copied) through the view
-- `view_name` = SELECT * FROM read_parquet('<path>/part-*.parquet'), created by faceemo.warehouse.
CREATE TABLE IF NOT EXISTS result_sets (
    name          VARCHAR PRIMARY KEY,       -- as given to --name
    view_name     VARCHAR NOT NULL UNIQUE,   -- results_<name>
    path          VARCHAR NOT NULL,          -- absolute path of the folder
    kind          VARCHAR,                   -- what the job read: 'files' | 'parquet' | 'warehouse'
    partitions    INTEGER NOT NULL,          -- partition files there when attached
    expected      INTEGER,                   -- partitions of the whole job (NULL: unknown)
    rows_attached BIGINT NOT NULL,           -- rows when attached; the view reads what is there now
    job           VARCHAR,                   -- the job's record (_job.json), JSON
    attached_at   TIMESTAMP NOT NULL
);
