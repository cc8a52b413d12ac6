-- the player's rows of the games Parquet files (a bound list), only the columns the
-- games table has; columns a file lacks stay null
insert into games by name
select columns(lambda c: list_contains($columns, c))
from read_parquet($files, union_by_name = true, hive_partitioning = false)
where lower(username) = $username
