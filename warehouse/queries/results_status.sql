-- Rows of one attached result set by status ('ok' faces, inputs with no face, failed inputs), with the
-- inputs they came from and the most frequent reason. Params: $view (a result_sets.view_name).
SELECT status,
       count(*)                 AS rows,
       count(DISTINCT source)   AS inputs,
       mode(reason)             AS top_reason
FROM query_table($view)
GROUP BY status
ORDER BY CASE status WHEN 'ok' THEN 0 WHEN 'no_face' THEN 1 ELSE 2 END;
