-- a warehouse table's columns, in order
select column_name from information_schema.columns where table_name = $table
order by ordinal_position
