"""Tests of the benchmark tools (bench/): the corpus builder and the report smoke test."""
