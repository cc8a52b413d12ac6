"""The read-only FastAPI app over the published summary tables."""
