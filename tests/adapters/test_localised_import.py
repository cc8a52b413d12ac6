"""A Spanish website download reads as the English one: import, parse, terminations summary."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from adapters.lake import Lake
from adapters.raw_store import RawStore
from adapters.warehouse import compute_summaries_from_frames
from cli import app
from pipeline.imports import import_files
from pipeline.parse import parse_player
from tests.adapters.helpers import make_settings

EXPORT = Path("bmar") / "pgn" / "website_download_2023-04-22_to_2025-03-20.pgn"
# English wording -> real Chess.com Spanish wording (sources in termination_phrases.json).
# No Spanish header was found for "timeout vs insufficient material": that game gets the real
# Spanish draw prefix alone, which names no reason, so its final position must decide.
SPANISH = [
    (re.compile(r"^(\S+) won by resignation$"), r"\1 ha ganado por abandono"),
    (re.compile(r"^(\S+) won on time$"), r"\1 ha ganado por tiempo"),
    (re.compile(r"^(\S+) won by checkmate$"), r"Victoria de \1 por jaque mate"),
    (re.compile(r"^(\S+) won - game abandoned$"), r"\1 ha ganado por desistimiento de su oponente"),
    (re.compile(r"^Game drawn by agreement$"), "Partida en tablas por mutuo acuerdo"),
    (re.compile(r"^Game drawn - timeout vs insufficient material$"), "Partida en tablas"),
]


def _spanish(text: str) -> str:
    def header(match: re.Match[str]) -> str:
        for pattern, spanish in SPANISH:
            if pattern.match(match.group(1)):
                return f'[Termination "{pattern.sub(spanish, match.group(1))}"]'
        raise AssertionError(f"no Spanish wording for {match.group(1)!r}")

    return re.sub(r'^\[Termination "([^"]*)"\]$', header, text, flags=re.MULTILINE)


def _games(root: Path, pgn: Path) -> tuple[pl.DataFrame, list[str], list[str]]:
    settings = make_settings(root)
    imported = import_files(RawStore(settings.raw_dir), "bmar", [pgn])
    report = parse_player(RawStore(settings.raw_dir), Lake(settings.lake_dir), "bmar")
    return (
        Lake(settings.lake_dir).read_games("bmar"),
        imported.unread_terminations.lines(),
        (report.termination_notes),
    )


def test_spanish_download_reads_as_the_english(fixtures_dir: Path, tmp_path: Path) -> None:
    english_file = fixtures_dir / EXPORT
    english_text = english_file.read_text(encoding="utf-8")
    spanish_text = _spanish(english_text)
    # only the Termination headers differ, and every one of them does
    diff = [
        (a, b)
        for a, b in zip(english_text.splitlines(), spanish_text.splitlines(), strict=True)
        if a != b
    ]
    assert len(diff) == 50
    assert all(a.startswith("[Termination ") and b.startswith("[Termination ") for a, b in diff)
    spanish_file = tmp_path / "descarga.pgn"
    spanish_file.write_text(spanish_text, encoding="utf-8")

    english, english_import, english_notes = _games(tmp_path / "en", english_file)
    spanish, spanish_import, spanish_notes = _games(tmp_path / "es", spanish_file)
    assert english.height == spanish.height == 50
    columns = ["game_id", "result", "result_code", "opponent_result_code", "termination"]
    left = english.select(columns).sort("game_id")
    right = spanish.select(columns).sort("game_id")
    assert left.equals(right)
    # English counts, written out from the export's own headers (bmar's point of view)
    assert dict(english.group_by("termination").len().iter_rows()) == {
        "checkmate": 18,
        "resignation": 5,
        "timeout": 21,
        "abandonment": 4,
        "agreement": 1,
        "timevsinsufficient": 1,
    }
    # nothing unreadable after the refresh; the import, reading no moves, names the one game
    assert english_import == english_notes == spanish_notes == []
    assert spanish_import == [
        "1 game with an unreadable termination (counted as unknown): 'Partida en tablas'"
    ]


def test_terminations_summary_is_the_same(fixtures_dir: Path, tmp_path: Path) -> None:
    spanish_file = tmp_path / "descarga.pgn"
    spanish_file.write_text(_spanish((fixtures_dir / EXPORT).read_text("utf-8")), "utf-8")
    out = {}
    for lang, pgn in (("en", fixtures_dir / EXPORT), ("es", spanish_file)):
        settings = make_settings(tmp_path / lang)
        import_files(RawStore(settings.raw_dir), "bmar", [pgn])
        parse_player(RawStore(settings.raw_dir), Lake(settings.lake_dir), "bmar")
        lake = Lake(settings.lake_dir)
        out[lang] = compute_summaries_from_frames(
            lake.read_games("bmar"), lake.read_moves("bmar"), "bmar"
        )
    for name in ("terminations", "game_length", "time_management"):
        assert out["en"][name].equals(out["es"][name]), name


def test_import_and_refresh_name_unreadable_terminations(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    text = (fixtures_dir / EXPORT).read_text("utf-8")
    # two resignations get a wording no table knows (a stand-in, not a Chess.com string)
    resigned = re.compile(r'^\[Termination "\S+ won by resignation"\]$', re.MULTILINE)
    text = resigned.sub('[Termination "(unreadable test wording)"]', text, count=2)
    path = tmp_path / "export.pgn"
    path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    env = {"DATA_DIR": str(tmp_path / "data"), "COLUMNS": "400"}
    imported = runner.invoke(app, ["import", "bmar", str(path)], env=env)
    assert imported.exit_code == 0, imported.output
    line = "2 games with an unreadable termination (counted as unknown): "
    assert line + "'(unreadable test wording)' x2" in imported.output
    refreshed = runner.invoke(app, ["refresh", "bmar", "--offline"], env=env)
    assert refreshed.exit_code == 0, refreshed.output
    assert f"bmar: {line}'(unreadable test wording)' x2" in refreshed.output
