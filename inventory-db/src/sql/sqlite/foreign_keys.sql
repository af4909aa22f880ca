SELECT m.name AS table_name,
       f."from" AS column_name,
       f."table" AS foreign_table,
       upper(f.on_delete) AS on_delete,
       EXISTS (
           SELECT 1
           FROM pragma_index_list(m.name) il
           JOIN pragma_index_info(il.name) ii
           WHERE ii.seqno = 0 AND ii.name = f."from"
       ) AS indexed
FROM sqlite_master m
JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table'
ORDER BY 1, 2
