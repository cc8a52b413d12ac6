"""The API's import path stays light: no Prefect, Polars or DuckDB behind `serve`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("prefect", "polars", "duckdb", "pyarrow", "flows")

PROBE = """
import json, sys
from fastapi.testclient import TestClient
from api.app import create_app
from settings import Settings
app = create_app(Settings(_env_file=None, database_url=sys.argv[1]))
with TestClient(app) as client:
    statuses = [client.get(p).status_code for p in sys.argv[2:]]
print(json.dumps({"statuses": statuses, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_serving_imports_nothing_heavy(published: str) -> None:
    paths = ["/healthz", "/readyz", "/v1/players/alice", "/v1/players/alice/summaries/results"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, published, *paths],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["statuses"] == [200, 200, 200, 200]
    assert [m for m in HEAVY if m in result["modules"]] == []
    if published.startswith("postgresql"):
        # The PostgreSQL path talks psycopg directly; SQLAlchemy is only for SQLite and publishing.
        assert "sqlalchemy" not in result["modules"]
