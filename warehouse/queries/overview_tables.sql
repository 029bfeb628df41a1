-- Every table of the warehouse with its row count (DuckDB's own estimate, exact after a checkpoint).
SELECT table_name AS "table", estimated_size AS "rows"
FROM duckdb_tables()
WHERE database_name = current_database() AND NOT internal AND NOT temporary
ORDER BY table_name;
