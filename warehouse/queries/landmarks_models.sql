-- Landmark models that have predictions, with how many faces each covers.
SELECT l.model_id, count(*) AS faces, any_value(m.architecture) AS architecture,
       any_value(m.created_at) AS created_at
FROM landmarks l LEFT JOIN models m USING (model_id)
GROUP BY l.model_id
ORDER BY faces DESC, l.model_id;
