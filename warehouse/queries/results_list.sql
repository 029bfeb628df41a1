-- Attached result sets (attach-results), newest first.
SELECT name, view_name, path, kind, partitions, expected, rows_attached, attached_at
FROM result_sets
ORDER BY attached_at DESC, name;
