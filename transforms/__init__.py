"""Pure transforms: archive JSON and PGN text into Polars frames; no I/O, no Prefect."""
