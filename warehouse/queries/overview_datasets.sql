-- Data sets in the warehouse, largest first.
SELECT dataset, count(*) AS images FROM images GROUP BY dataset ORDER BY images DESC, dataset;
