"""The layer rules of DESIGN.md, checked by walking every module's imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("flows", "pipeline", "adapters", "transforms", "api", "mirror")
TOP_LEVEL_MODULES = ("cli.py", "report.py", "settings.py")
LIGHT_TRANSFORMS = {"transforms.usernames", "transforms.registry", "transforms.focus"}
HEAVY = ("prefect", "polars", "duckdb", "chess")


def _modules() -> list[Path]:
    files = [path for package in PACKAGES for path in (REPO / package).rglob("*.py")]
    return files + [REPO / name for name in TOP_LEVEL_MODULES]


def _imports(path: Path) -> set[str]:
    """Every module name a file imports, at any depth (lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _layer(path: Path) -> str:
    return path.relative_to(REPO).parts[0].removesuffix(".py")


def _violations(path: Path, layer: str) -> list[str]:
    found = []
    for name in sorted(_imports(path)):
        root = name.split(".")[0]
        if root == "prefect" and layer != "flows":
            found.append(f"{name}: only flows/ may import prefect")
        if layer == "transforms" and not (
            root in sys.stdlib_module_names or root in {"polars", "chess", "transforms"}
        ):
            found.append(f"{name}: transforms/ imports only the stdlib, polars and chess")
        if layer == "api" and (
            root in {"flows", "duckdb", "polars", "prefect", "chess"}
            or (root == "transforms" and name not in LIGHT_TRANSFORMS)
        ):
            found.append(f"{name}: api/ must not import the pipeline's heavy paths")
        if layer in {"adapters", "transforms"} and root in {"flows", "pipeline", "api", "cli"}:
            found.append(f"{name}: {layer}/ must not import the layers above it")
        if layer == "pipeline" and root in {"httpx", "sqlalchemy", "duckdb"}:
            found.append(f"{name}: pipeline/ reaches I/O only through adapters (the ports)")
        if layer == "pipeline" and root in {"flows", "api", "cli"}:
            found.append(f"{name}: pipeline/ must not import the layers above it")
        if layer in {"pipeline", "adapters", "transforms"} and root == "mirror":
            found.append(f"{name}: the mirror is a tool and a test double, not a pipeline part")
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_module_respects_layer_rules(path: Path) -> None:
    assert _violations(path, _layer(path)) == []


def test_rule_checker_catches_a_broken_rule(tmp_path: Path) -> None:
    (tmp_path / "transforms").mkdir()
    bad = tmp_path / "bad.py"
    bad.write_text("import httpx\n\ndef f():\n    from prefect import flow\n")
    assert _violations(bad, "transforms") == [
        "httpx: transforms/ imports only the stdlib, polars and chess",
        "prefect: only flows/ may import prefect",
        "prefect: transforms/ imports only the stdlib, polars and chess",
    ]
    assert _violations(bad, "flows") == []
    stage = tmp_path / "stage.py"
    stage.write_text("import duckdb\nfrom sqlalchemy import text\nfrom mirror import Fault\n")
    assert _violations(stage, "pipeline") == [
        "duckdb: pipeline/ reaches I/O only through adapters (the ports)",
        "mirror: the mirror is a tool and a test double, not a pipeline part",
        "sqlalchemy: pipeline/ reaches I/O only through adapters (the ports)",
    ]
    adapter = tmp_path / "adapter.py"
    adapter.write_text("from pipeline.fetch import fetch_player\n")
    assert _violations(adapter, "adapters") == [
        "pipeline.fetch: adapters/ must not import the layers above it"
    ]


def test_every_module_starts_with_a_docstring() -> None:
    missing = [
        str(path.relative_to(REPO))
        for path in _modules()
        if path.stat().st_size and ast.get_docstring(ast.parse(path.read_text())) is None
    ]
    assert missing == []


def test_api_import_pulls_in_no_heavy_library() -> None:
    code = f"import sys, api.app; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
