"""The command line: every sub-command explains itself, and bad input ends in one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("command", "setting"),
    [
        (["refresh"], "CHESSCOM_BASE_URL"),
        (["import"], "DATA_DIR"),
        (["serve"], "DATABASE_URL"),
        (["mirror"], "CHESSCOM_BASE_URL"),
        (["report"], "DATABASE_URL"),
        (["db", "upgrade"], "DATABASE_URL"),
    ],
)
def test_help_says_what_it_does_and_which_settings_it_reads(
    command: list[str], setting: str
) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert setting in result.output


def test_hostile_username_is_refused_before_any_request(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["refresh", "../../etc/passwd"],
        env={"DATA_DIR": str(tmp_path), "CHESSCOM_BASE_URL": "http://127.0.0.1:9/pub"},
    )
    assert result.exit_code == 1
    assert "is not a Chess.com username" in result.output
    assert not list(tmp_path.rglob("*"))


def test_invalid_setting_is_one_readable_line() -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"PARSE_WORKERS": "zero"})
    assert result.exit_code == 1
    assert "PARSE_WORKERS" in result.output
    assert "Traceback" not in result.output
