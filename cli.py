"""The `chess-patterns` command line."""
