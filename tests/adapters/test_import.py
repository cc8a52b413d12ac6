"""`import`: monthly JSON bodies and PGN exports (API, website, joined) into the raw store, once."""

from __future__ import annotations

import json
import re
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.raw_store import RawStore
from mirror import running_mirror
from settings import Settings
from tests.adapters.helpers import fetch_player, import_files, make_settings
from transforms.imports import (
    ImportFormatError,
    canonical_game_url,
    pgn_end_time,
    san_moves,
    split_pgn,
)


def stored_games(settings: Settings, user: str) -> dict[str, list[dict[str, object]]]:
    store = RawStore(settings.raw_dir)
    return {m: json.loads(store.read_month(user, m))["games"] for m in store.stored_months(user)}


def test_biskupstunga_95_files_import_in_full_and_again_adds_nothing(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    files = sorted((fixtures_dir / "biskupstunga" / "pgn").glob("*.pgn"))
    assert len(files) == 95
    # Count independently: one game per `[Event ` line, one month per file name.
    per_month = {
        f.stem.removeprefix("api_pgn_"): len(re.findall(r"^\[Event ", f.read_text(), re.M))
        for f in files
    }
    assert sum(per_month.values()) == 18_216
    settings = make_settings(tmp_path)
    report = import_files(settings, "biskupstunga", files)
    assert (report.games_added, report.games_already_present) == (18_216, 0)
    assert report.months_written == sorted(per_month)
    games = stored_games(settings, "biskupstunga")
    assert {m: len(g) for m, g in games.items()} == per_month
    manifest = RawStore(settings.raw_dir).manifest("biskupstunga")
    assert all(r.stored for r in manifest.values())
    assert sum(r.game_count or 0 for r in manifest.values()) == 18_216
    assert {r.source for r in manifest.values()} == {"import"}
    for month, month_games in games.items():
        end_times = [int(str(g["end_time"])) for g in month_games]
        assert end_times == sorted(end_times)
        assert {datetime.fromtimestamp(t, UTC).strftime("%Y-%m") for t in end_times} == {month}
        for game in month_games:
            assert list(game) == ["url", "pgn", "end_time", "uuid"]
    mtimes = {
        m: RawStore(settings.raw_dir).month_path("biskupstunga", m).stat().st_mtime_ns
        for m in games
    }
    again = import_files(settings, "biskupstunga", files)
    assert (again.games_added, again.games_already_present) == (0, 18_216)
    assert again.months_written == []
    assert {
        m: RawStore(settings.raw_dir).month_path("biskupstunga", m).stat().st_mtime_ns
        for m in games
    } == mtimes


def test_imported_api_pgn_equals_the_json_games(fixtures_dir: Path, tmp_path: Path) -> None:
    # The same 17 games exist as the /pgn export and as the JSON monthly body.
    settings = make_settings(tmp_path)
    pgn_file = fixtures_dir / "fabianocaruana" / "pgn" / "ChessCom_fabianocaruana_202005.pgn"
    report = import_files(settings, "fabianocaruana", [pgn_file])
    assert report.games_added == 17
    expected = json.loads((fixtures_dir / "fabianocaruana" / "2020" / "05.json").read_bytes())
    got = stored_games(settings, "fabianocaruana")["2020-05"]
    assert [(g["url"], g["pgn"], g["end_time"]) for g in got] == [
        (g["url"], g["pgn"], g["end_time"]) for g in expected["games"]
    ]
    assert [g["uuid"] for g in got] == [
        str(uuid.uuid5(uuid.NAMESPACE_URL, g["url"])) for g in expected["games"]
    ]
    # The JSON body of the same month adds nothing: the games are keyed by their URL.
    json_report = import_files(
        settings, "fabianocaruana", [fixtures_dir / "fabianocaruana" / "2020" / "05.json"]
    )
    assert (json_report.games_added, json_report.games_already_present) == (0, 17)


def test_a_month_fetched_from_the_api_replaces_the_imported_file(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    pgn_file = fixtures_dir / "fabianocaruana" / "pgn" / "ChessCom_fabianocaruana_202005.pgn"
    api_bytes = (fixtures_dir / "fabianocaruana" / "2020" / "05.json").read_bytes()
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(tmp_path, mirror.base_url)
        import_files(settings, "fabianocaruana", [pgn_file])
        assert RawStore(settings.raw_dir).read_month("fabianocaruana", "2020-05") != api_bytes
        report = fetch_player(settings, "fabianocaruana")
        # The imported month was asked for without validators and its API bytes won.
        assert all(not r.conditional for r in mirror.log())
    assert report.fetched == ["2020-05"]
    assert RawStore(settings.raw_dir).read_month("fabianocaruana", "2020-05") == api_bytes
    assert RawStore(settings.raw_dir).manifest("fabianocaruana")["2020-05"].source == "api"


def test_json_import_into_an_api_month_merges_and_dedupes(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    month_file = fixtures_dir / "magnuscarlsen" / "2024" / "01.json"
    expected = json.loads(month_file.read_bytes())["games"]
    first = import_files(settings, "magnuscarlsen", [month_file, month_file])
    assert (first.games_added, first.games_already_present) == (len(expected), len(expected))
    got = stored_games(settings, "magnuscarlsen")["2024-01"]
    assert got == expected  # game objects kept exactly, same order (already by end_time)


def test_website_export_uses_local_zone_for_the_utc_month(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    path = fixtures_dir / "apuzanov" / "pgn" / "website_download_2018-08-15_to_2018-12-31.pgn"
    text = path.read_text()
    settings = make_settings(tmp_path)
    report = import_files(settings, "apuzanov", [path])
    assert report.games_added == len(re.findall(r"^\[Event ", text, re.M)) == 1170
    games = [g for month in stored_games(settings, "apuzanov").values() for g in month]
    first = next(g for g in games if '[EndTime "12:34:39 PDT"]' in str(g["pgn"]))
    # 2018-08-15 12:34:39 PDT (UTC-7) = 19:34:39 UTC, worked out by hand.
    assert first["end_time"] == int(datetime(2018, 8, 15, 19, 34, 39, tzinfo=UTC).timestamp())
    assert first["url"] == ""
    assert str(first["pgn"]).startswith(
        '[Event "Live Chess"]\n[Site "Chess.com"]\n[Date "2018.08.15"]'
    )
    # Website games carry no Link: identity is the content hash, and re-import adds nothing.
    assert import_files(settings, "apuzanov", [path]).games_added == 0


def test_games_joined_without_blank_lines_keep_their_headers(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    path = fixtures_dir / "magnuscarlsen" / "pgn" / "games_2014-12-14_to_2018-03-07.pgn"
    texts = split_pgn(path.read_text())
    assert len(texts) == 334
    assert all(t.startswith('[Event "') and "[Link " in t for t in texts)
    settings = make_settings(tmp_path)
    report = import_files(settings, "MagnusCarlsen", [path])
    assert report.games_added == 334
    games = [g for month in stored_games(settings, "magnuscarlsen").values() for g in month]
    # The old Link form normalises to the current one.
    assert "https://www.chess.com/game/live/998800720" in {g["url"] for g in games}


def test_other_export_shapes_import(fixtures_dir: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    cases = {"bmar": 50, "endlesstrax": 1, "hikaru": 43, "falc0nfeast": 1078}
    for user, count in cases.items():
        files = sorted((fixtures_dir / user / "pgn").glob("*.pgn"))
        assert import_files(settings, user, files).games_added == count


@pytest.mark.parametrize(
    ("link", "url"),
    [
        ("https://www.chess.com/live/game/998800720", "https://www.chess.com/game/live/998800720"),
        (
            "https://www.chess.com/game/live/4814018950",
            "https://www.chess.com/game/live/4814018950",
        ),
        (
            "https://www.chess.com/game/daily/663424977",
            "https://www.chess.com/game/daily/663424977",
        ),
        ("https://www.chess.com/daily/game/12", "https://www.chess.com/game/daily/12"),
        ("https://lichess.org/abcdef", ""),
        (None, ""),
    ],
)
def test_canonical_game_url(link: str | None, url: str) -> None:
    assert canonical_game_url(link) == url


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Date": "2021.01.21", "EndTime": "13:13:28 PST"}, datetime(2021, 1, 21, 21, 13, 28)),
        ({"Date": "2018.09.18", "EndTime": "5:34:13 PDT"}, datetime(2018, 9, 18, 12, 34, 13)),
        ({"Date": "2023.04.22", "EndTime": "20:34:57 GMT+0000"}, datetime(2023, 4, 22, 20, 34, 57)),
        ({"Date": "2018.12.31", "EndTime": "22:00:00 PST"}, datetime(2019, 1, 1, 6, 0, 0)),
        (
            {"Date": "2020.05.01", "UTCDate": "2020.05.01", "EndDate": "2020.05.02",
             "EndTime": "00:10:00"},
            datetime(2020, 5, 2, 0, 10, 0),
        ),
    ],
)  # fmt: skip
def test_end_time_from_headers(headers: dict[str, str], expected: datetime) -> None:
    assert pgn_end_time(headers) == int(expected.replace(tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "headers",
    [
        {"Date": "\u0662\u0660\u0662\u0661.01.21", "EndTime": "13:13:28 PST"},
        {"Date": "2021.01.21", "EndTime": "\u0661\u0663:13:28 PST"},
        {"EndDate": "2021.01.21", "EndTime": "13:13:28 GMT+\u0660\u0660\u0660\u0660"},
    ],
)
def test_end_time_refuses_non_ascii_digits(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"export the games again|not one this importer knows"):
        pgn_end_time(headers)


def test_unknown_zone_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    pgn = tmp_path / "x.pgn"
    pgn.write_text(
        '[Event "Live Chess"]\n[Site "Chess.com"]\n[Date "2021.01.21"]\n[White "me"]\n'
        '[Black "you"]\n[Result "1-0"]\n[EndTime "13:13:28 IST"]\n\n1. e4 1-0\n'
    )
    settings = make_settings(tmp_path)
    with pytest.raises(ImportFormatError, match="IST"):
        import_files(settings, "me", [pgn])
    assert RawStore(settings.raw_dir).stored_months("me") == []


def test_wrong_player_or_not_chess_is_refused(fixtures_dir: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    hikaru = fixtures_dir / "hikaru" / "pgn" / "api_pgn_2025-07-01.pgn"
    with pytest.raises(ImportFormatError, match="'magnuscarlsen'"):
        import_files(settings, "magnuscarlsen", [hikaru])
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    with pytest.raises(ImportFormatError, match="PGN"):
        import_files(settings, "hikaru", [hikaru, bad])
    assert RawStore(settings.raw_dir).stored_months("hikaru") == []


WEBSITE_HEADERS = (
    "Event", "Site", "Date", "Round", "White", "Black", "Result", "WhiteElo", "BlackElo",
    "TimeControl", "EndTime", "Termination",
)  # fmt: skip


def website_copy(game: dict[str, Any], zone: str, hours: int) -> str:
    """A real API game as the website's "Download PGN" writes it (chesscom-data.md section 4).

    Only the 12 website headers, `Date` and `EndTime` in the downloader's zone, the movetext
    wrapped at 80 columns (clock comments may break across lines).
    """
    pgn = str(game["pgn"])
    headers = dict(re.findall(r'^\[(\w+) "([^"]*)"\]$', pgn, re.M))
    movetext = pgn[pgn.index("\n\n") :].strip()
    local = datetime.fromtimestamp(int(game["end_time"]), UTC) + timedelta(hours=hours)
    headers["Date"] = local.strftime("%Y.%m.%d")
    headers["EndTime"] = f"{local.hour}:{local:%M:%S} {zone}"
    lines = [f'[{name} "{headers[name]}"]' for name in WEBSITE_HEADERS]
    wrapped = textwrap.fill(movetext, width=80, break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines) + "\n\n" + wrapped + "\n"


def test_a_game_from_the_website_export_and_the_api_is_stored_once(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    api_json = fixtures_dir / "fabianocaruana" / "2020" / "05.json"
    api_pgn = fixtures_dir / "fabianocaruana" / "pgn" / "ChessCom_fabianocaruana_202005.pgn"
    expected = json.loads(api_json.read_bytes())["games"]
    assert len(expected) == 17
    # Newest first, one blank line between games, Pacific daylight time (UTC-7 in May).
    copies = [website_copy(g, "PDT", -7) for g in reversed(expected)]
    website = tmp_path / "website.pgn"
    website.write_text("\n".join(copies))
    assert "[Link " not in website.read_text()
    assert max(len(line) for line in website.read_text().splitlines()) <= 80
    assert any(line.endswith("{[%clk") for line in website.read_text().splitlines())

    settings = make_settings(tmp_path)
    first = import_files(settings, "fabianocaruana", [website])
    assert (first.games_added, first.games_already_present) == (17, 0)
    assert all(g["url"] == "" for g in stored_games(settings, "fabianocaruana")["2020-05"])
    # The API's /pgn export of the same month: every game is already there, and each
    # website copy gives way to the copy with the Link.
    second = import_files(settings, "fabianocaruana", [api_pgn])
    assert (second.games_added, second.games_already_present) == (0, 17)
    # The JSON body and the website export again: still nothing new.
    third = import_files(settings, "fabianocaruana", [api_json, website])
    assert (third.games_added, third.games_already_present) == (0, 34)
    got = stored_games(settings, "fabianocaruana")["2020-05"]
    assert [(g["url"], g["pgn"], g["end_time"]) for g in got] == [
        (g["url"], g["pgn"], g["end_time"]) for g in expected
    ]


def test_api_first_then_website_adds_nothing_but_a_changed_move_is_a_new_game(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    api_json = fixtures_dir / "fabianocaruana" / "2020" / "05.json"
    expected = json.loads(api_json.read_bytes())["games"]
    game = next(g for g in expected if " 2. " in str(g["pgn"]))
    copy = website_copy(game, "CEST", 2)
    settings = make_settings(tmp_path)
    import_files(settings, "fabianocaruana", [api_json])
    same = tmp_path / "same.pgn"
    same.write_text(copy)
    assert import_files(settings, "fabianocaruana", [same]).games_already_present == 1
    # Same players, result and end time, one different move: a different game.
    head, _, moves = copy.partition("\n\n")
    first_move = re.search(r"1\. (\S+)", moves)
    assert first_move is not None
    other = "a3" if first_move.group(1) != "a3" else "h3"
    changed = tmp_path / "changed.pgn"
    changed.write_text(
        head + "\n\n" + moves.replace(f"1. {first_move.group(1)} ", f"1. {other} ", 1)
    )
    report = import_files(settings, "fabianocaruana", [changed])
    assert (report.games_added, report.games_already_present) == (1, 0)
    assert len(stored_games(settings, "fabianocaruana")["2020-05"]) == len(expected) + 1


@pytest.mark.parametrize(
    ("movetext", "moves"),
    [
        ("1. e4 {[%clk 0:02:58.6]} 1... e5 {[%clk\n0:02:57.9]} 2. Nf3 1-0", ["e4", "e5", "Nf3"]),
        ("1.e4 e5 2.Qh5?! Nc6 (2... g6) 3.Bc4 $6 Nf6?? 4.Qxf7# 1-0",
         ["e4", "e5", "Qh5", "Nc6", "Bc4", "Nf6", "Qxf7#"]),
        ("2... Kd7 3. O-O-O+ 1/2-1/2", ["Kd7", "O-O-O+"]),
        ("0-1", []),
    ],
)  # fmt: skip
def test_san_moves_drop_everything_but_moves(movetext: str, moves: list[str]) -> None:
    assert san_moves(movetext) == moves


GOOD_GAME = (
    '[Event "Live Chess"]\n[Site "Chess.com"]\n[Date "2021.01.21"]\n[White "me"]\n'
    '[Black "you"]\n[Result "1-0"]\n[EndTime "13:13:28 PST"]\n\n1. e4 1-0\n'
)


@pytest.mark.parametrize(
    ("second_game", "words"),
    [
        (GOOD_GAME.replace('[EndTime "13:13:28 PST"]\n', ""), "no EndTime header"),
        (GOOD_GAME.replace('[Date "2021.01.21"]', '[Date "2021.??.??"]'), "no usable date"),
    ],
)
def test_pgn_game_without_end_time_names_file_game_and_what_to_do(
    tmp_path: Path, second_game: str, words: str
) -> None:
    path = tmp_path / "mine.pgn"
    path.write_text(GOOD_GAME + "\n" + second_game.replace('"you"', '"friend"'))
    settings = make_settings(tmp_path)
    with pytest.raises(ImportFormatError) as caught:
        import_files(settings, "me", [path])
    message = str(caught.value)
    assert str(path) in message
    assert "game 2 of 2 (me vs friend" in message
    assert words in message
    assert "export the games again from Chess.com" in message
    assert "Nothing was imported" in message
    assert RawStore(settings.raw_dir).stored_months("me") == []


def test_json_game_without_end_time_names_file_game_and_what_to_do(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    games = json.loads((fixtures_dir / "wizardchiken" / "2023" / "01.json").read_bytes())["games"]
    del games[2]["end_time"]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps({"games": games}))
    settings = make_settings(tmp_path)
    with pytest.raises(ImportFormatError) as caught:
        import_files(settings, "wizardchiken", [path])
    message = str(caught.value)
    assert str(path) in message
    assert f"game 3 of {len(games)} ({games[2]['url']})" in message
    assert "no integer end_time" in message
    assert "exactly as Chess.com sent them" in message
    assert RawStore(settings.raw_dir).stored_months("wizardchiken") == []
