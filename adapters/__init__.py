"""All I/O: the Chess.com client, raw store, Parquet lake, DuckDB warehouse and publisher."""
