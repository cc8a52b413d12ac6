"""Prefect flows: thin wiring of the pipeline stages; the only package that imports Prefect."""
