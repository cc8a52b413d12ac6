"""The API's import path stays light: no Prefect, Polars or DuckDB behind `serve`."""

from __future__ import annotations

import json
import os
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


SERVE_PROBE = """
import json, sys
import uvicorn
uvicorn.run = lambda app, **kwargs: print(json.dumps({"app": type(app).__name__}))
import cli
cli.serve(host="127.0.0.1", port=0)
print(json.dumps({"modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_the_serve_command_imports_nothing_heavy(tmp_path: Path) -> None:
    """`chess-patterns serve` on the embedded SQLite migrates it first: that too without Polars."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "API_DATABASE_URL")}
    env["DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", SERVE_PROBE],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env=env,
    )
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert lines[0] == {"app": "FastAPI"}
    assert (tmp_path / "patterns.sqlite").exists()  # the schema was created by the serve path
    assert [m for m in HEAVY if m in lines[-1]["modules"]] == []
