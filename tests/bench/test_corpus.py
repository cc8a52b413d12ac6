"""The benchmark corpus: real moves and clocks of the source games, new ids and times, seeded."""

from __future__ import annotations

import json
from pathlib import Path

from bench.corpus import SOURCE, build_corpus, source_games
from tests.conftest import FIXTURES
from transforms.archive import parse_month
from transforms.pgn import split_pgn_games


def _movetexts_of_source() -> list[str]:
    """The source's movetexts in play order, read here independently of bench.corpus."""
    out: list[str] = []
    for path in sorted((FIXTURES / SOURCE / "pgn").glob("api_pgn_*.pgn")):
        games = split_pgn_games(path.read_text(encoding="utf-8"))
        out.extend(g.split("\n\n", 1)[1].strip() for g in reversed(games))
    return out


def test_corpus_keeps_real_moves_and_renews_ids_and_times(tmp_path: Path) -> None:
    sources = source_games()
    corpus = build_corpus(tmp_path, 120, 3, player="CorpusPlayer", seed=3, sources=sources)
    assert corpus.player == "corpusplayer"
    assert corpus.months == ["2018-01", "2018-02", "2018-03"]
    listed = json.loads((tmp_path / "corpusplayer" / "archives.json").read_bytes())["archives"]
    assert listed[-1] == "https://api.chess.com/pub/player/corpusplayer/games/2018/03"
    real = _movetexts_of_source()
    games = [g for path in corpus.month_files() for g in json.loads(path.read_bytes())["games"]]
    assert len(games) == 120
    for i, game in enumerate(games):
        assert game["pgn"].split("\n\n", 1)[1].strip() == real[i]  # moves and %clk untouched
        assert "[%clk " in real[i] or "daily" in game["url"]
    assert len({g["uuid"] for g in games}) == 120
    assert len({g["url"] for g in games}) == 120
    # every game parses, is the corpus player's, and lies in the month file it is listed in
    total = 0
    for month, path in zip(corpus.months, corpus.month_files(), strict=True):
        parsed = parse_month("corpusplayer", month, path.read_bytes())
        assert parsed.games["parse_error"].null_count() == parsed.games.height
        assert parsed.games["end_time"].dt.strftime("%Y-%m").unique().to_list() == [month]
        assert parsed.moves.height > 0
        total += parsed.games.height
    assert total == 120


def test_corpus_is_deterministic_and_cycles_the_source(tmp_path: Path) -> None:
    sources = source_games()[:7]  # a short source: 20 games cycle it
    one = build_corpus(tmp_path / "a", 20, 2, seed=5, sources=sources)
    two = build_corpus(tmp_path / "b", 20, 2, seed=5, sources=sources)
    other = build_corpus(tmp_path / "c", 20, 2, seed=6, sources=sources)
    for a, b, c in zip(one.month_files(), two.month_files(), other.month_files(), strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() != c.read_bytes()
    games = [g for p in one.month_files() for g in json.loads(p.read_bytes())["games"]]
    moves = [g["pgn"].split("\n\n", 1)[1] for g in games]
    assert moves[0] == moves[7] == moves[14]
    assert len({g["uuid"] for g in games}) == 20
