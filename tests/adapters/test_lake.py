"""The Parquet lake: atomic partitions tagged with sha256 and parser version, one glob each."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import duckdb
import polars as pl
import pytest

from adapters.lake import Lake
from transforms.archive import ParsedMonth, parse_month
from transforms.schema import GAMES_SCHEMA, MOVES_SCHEMA, PARSER_VERSION, SchemaMismatchError


@pytest.fixture
def month(fixtures_dir: Path) -> tuple[bytes, ParsedMonth, int]:
    body = (fixtures_dir / "shaunchess123" / "2025" / "08.json").read_bytes()
    games = len(json.loads(body)["games"])
    return body, parse_month("shaunchess123", "2025-08", body), games


def test_write_then_read_back(tmp_path: Path, month: tuple[bytes, ParsedMonth, int]) -> None:
    _, parsed, games = month
    lake = Lake(tmp_path)
    lake.write_month("shaunchess123", "2025-08", parsed, "a" * 64)
    back = lake.read_games("shaunchess123")
    assert back.height == games == 47
    assert back.schema == GAMES_SCHEMA
    assert back.sort("game_id").equals(parsed.games.sort("game_id"))
    moves = lake.read_moves("shaunchess123")
    assert moves.schema == MOVES_SCHEMA
    assert moves.height == parsed.moves.height > 0
    part = tmp_path / "games" / "username=shaunchess123" / "month=2025-08" / "part.parquet"
    assert part.is_file()
    assert (
        tmp_path / "moves" / "username=shaunchess123" / "month=2025-08" / "part.parquet"
    ).is_file()
    # No temp file is left next to the partition.
    assert sorted(p.name for p in part.parent.iterdir()) == ["_lake.json", "part.parquet"]


def test_partition_is_tagged_with_sha_and_parser_version(
    tmp_path: Path, month: tuple[bytes, ParsedMonth, int]
) -> None:
    _, parsed, _ = month
    lake = Lake(tmp_path)
    lake.write_month("shaunchess123", "2025-08", parsed, "b" * 64)
    part = tmp_path / "games" / "username=shaunchess123" / "month=2025-08" / "part.parquet"
    kv = pl.read_parquet_metadata(part)
    assert kv["raw_sha256"] == "b" * 64
    assert kv["parser_version"] == PARSER_VERSION
    meta = lake.meta("shaunchess123", "2025-08")
    assert meta is not None
    assert meta["raw_sha256"] == "b" * 64
    assert meta["games"] == 47


def test_needs_parse(tmp_path: Path, month: tuple[bytes, ParsedMonth, int]) -> None:
    _, parsed, _ = month
    lake = Lake(tmp_path)
    assert lake.needs_parse("shaunchess123", "2025-08", "c" * 64)
    lake.write_month("shaunchess123", "2025-08", parsed, "c" * 64)
    assert not lake.needs_parse("shaunchess123", "2025-08", "c" * 64)
    assert not lake.needs_parse("ShaunChess123", "2025-08", "c" * 64)
    assert lake.needs_parse("shaunchess123", "2025-08", "d" * 64)
    assert lake.needs_parse("shaunchess123", "2025-07", "c" * 64)
    # A partition written by another parser version must be parsed again.
    meta_path = tmp_path / "games" / "username=shaunchess123" / "month=2025-08" / "_lake.json"
    meta = json.loads(meta_path.read_text())
    meta["parser_version"] = "0.0.0-old"
    meta_path.write_text(json.dumps(meta))
    assert lake.needs_parse("shaunchess123", "2025-08", "c" * 64)


def test_needs_parse_when_a_partition_file_is_missing(
    tmp_path: Path, month: tuple[bytes, ParsedMonth, int]
) -> None:
    _, parsed, _ = month
    lake = Lake(tmp_path)
    lake.write_month("shaunchess123", "2025-08", parsed, "c" * 64)
    (tmp_path / "moves" / "username=shaunchess123" / "month=2025-08" / "part.parquet").unlink()
    assert lake.needs_parse("shaunchess123", "2025-08", "c" * 64)


def test_months_and_remove(tmp_path: Path, month: tuple[bytes, ParsedMonth, int]) -> None:
    _, parsed, _ = month
    lake = Lake(tmp_path)
    empty = parse_month("shaunchess123", "2025-09", b'{"games":[]}')
    lake.write_month("shaunchess123", "2025-08", parsed, "e" * 64)
    lake.write_month("shaunchess123", "2025-09", empty, "f" * 64)
    assert lake.months("shaunchess123") == ["2025-08", "2025-09"]
    assert lake.months("nobody") == []
    lake.remove_month("shaunchess123", "2025-08")
    assert lake.months("shaunchess123") == ["2025-09"]
    assert lake.read_games("shaunchess123").height == 0
    assert lake.needs_parse("shaunchess123", "2025-08", "e" * 64)


def test_read_games_of_unknown_player_is_empty_with_schema(tmp_path: Path) -> None:
    frame = Lake(tmp_path).read_games("nobody")
    assert frame.height == 0
    assert frame.schema == GAMES_SCHEMA


def test_rewrite_replaces_the_month(tmp_path: Path, month: tuple[bytes, ParsedMonth, int]) -> None:
    _, parsed, _ = month
    lake = Lake(tmp_path)
    lake.write_month("shaunchess123", "2025-08", parsed, "1" * 64)
    fewer = ParsedMonth(
        games=parsed.games.head(3),
        moves=parsed.moves.filter(
            pl.col("game_id").is_in(parsed.games.head(3)["game_id"].implode())
        ),
    )
    lake.write_month("shaunchess123", "2025-08", fewer, "2" * 64)
    assert lake.read_games("shaunchess123").height == 3


def test_write_refuses_a_frame_off_the_contract(
    tmp_path: Path, month: tuple[bytes, ParsedMonth, int]
) -> None:
    _, parsed, _ = month
    bad = ParsedMonth(games=parsed.games.drop("eco"), moves=parsed.moves)
    with pytest.raises(SchemaMismatchError, match="eco"):
        Lake(tmp_path).write_month("shaunchess123", "2025-08", bad, "3" * 64)
    assert Lake(tmp_path).months("shaunchess123") == []


def test_duckdb_reads_the_whole_lake_with_one_glob(
    tmp_path: Path, fixtures_dir: Path, month: tuple[bytes, ParsedMonth, int]
) -> None:
    _, parsed, games = month
    lake = Lake(tmp_path)
    lake.write_month("shaunchess123", "2025-08", parsed, "4" * 64)
    body = (fixtures_dir / "fabianocaruana" / "2020" / "05.json").read_bytes()
    lake.write_month(
        "fabianocaruana", "2020-05", parse_month("fabianocaruana", "2020-05", body), "5"
    )
    con = duckdb.connect()
    total = con.execute(f"select count(*) from read_parquet('{tmp_path}/games/*/*/*.parquet')")
    assert total.fetchall() == [(games + 17,)]
    glob = lake.games_glob("fabianocaruana")
    one = con.execute(f"select count(*), min(username), max(month) from read_parquet('{glob}')")
    assert one.fetchall() == [(17, "fabianocaruana", "2020-05")]
    moves_glob = lake.moves_glob("fabianocaruana")
    moves = con.execute(
        f"select count(distinct game_id), min(ply) from read_parquet('{moves_glob}')"
    )
    assert moves.fetchall() == [(17, 1)]


def test_every_file_is_fsynced_renamed_then_its_directory_fsynced(
    tmp_path: Path, month: tuple[bytes, ParsedMonth, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename is durable only once the directory is on disk: each of the three files of a
    month (moves part, games part, meta) must be fsynced, renamed, then its directory fsynced."""
    _, parsed, _ = month
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append((f"fsync-{kind}", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(("replace", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    Lake(tmp_path).write_month("shaunchess123", "2025-08", parsed, "a" * 64)
    monkeypatch.undo()

    games_dir = tmp_path / "games" / "username=shaunchess123" / "month=2025-08"
    moves_dir = tmp_path / "moves" / "username=shaunchess123" / "month=2025-08"
    targets = [moves_dir / "part.parquet", games_dir / "part.parquet", games_dir / "_lake.json"]
    replaced = [dst for kind, dst in events if kind == "replace"]
    assert replaced == [str(t) for t in targets]
    for target in targets:
        at = events.index(("replace", str(target)))
        assert events[at - 1][0] == "fsync-file"
        assert Path(events[at - 1][1]).parent == target.parent
        assert events[at + 1] == ("fsync-dir", str(target.parent))


def test_summaries_come_back_from_the_lake_exactly_as_computed(
    tmp_path: Path, month: tuple[bytes, ParsedMonth, int]
) -> None:
    # Summarise and publish are separate steps that meet in the lake: the frames publish reads
    # must be the ones summarise computed, dtypes, order and every value alike.
    from adapters.warehouse import compute_summaries_from_frames

    _, parsed, _ = month
    computed = compute_summaries_from_frames(
        parsed.games, parsed.moves, "shaunchess123", "Europe/Berlin"
    )
    lake = Lake(tmp_path)
    lake.write_summaries("shaunchess123", computed)
    back = lake.read_summaries("shaunchess123")
    assert list(back) == list(computed)
    for name, frame in computed.items():
        assert back[name].schema == frame.schema, name
        assert back[name].equals(frame, null_equal=True), name
    # A later write with fewer summaries leaves no stale file to be read.
    first = next(iter(computed))
    lake.write_summaries("shaunchess123", {first: computed[first]})
    assert list(lake.read_summaries("shaunchess123")) == [first]
    assert [
        p.name for p in (tmp_path / "summaries" / "username=shaunchess123").glob("*.parquet")
    ] == [f"{first}.parquet"]
    assert Lake(tmp_path).read_summaries("nobody") == {}
