-- the columns of the Parquet files as read together, without reading their rows
select * from read_parquet($files, union_by_name = true, hive_partitioning = false) limit 0
