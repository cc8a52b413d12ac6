"""Parser test helpers: every fixture monthly JSON body, read independently of the parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def month_files(fixtures_dir: Path) -> list[tuple[str, str, Path]]:
    """(owner, YYYY-MM, path) for every `<user>/<YYYY>/<MM>.json` fixture."""
    found = []
    for path in sorted(fixtures_dir.glob("*/[0-9][0-9][0-9][0-9]/[0-9][0-9].json")):
        found.append((path.parent.parent.name, f"{path.parent.name}-{path.stem}", path))
    return found


@pytest.fixture(scope="session")
def json_months(fixtures_dir: Path) -> list[tuple[str, str, bytes, list[dict[str, Any]]]]:
    """(owner, month, raw bytes, games as plain dicts) for every fixture month."""
    out = []
    for owner, month, path in month_files(fixtures_dir):
        body = path.read_bytes()
        out.append((owner, month, body, json.loads(body)["games"]))
    assert len(out) >= 40
    return out
