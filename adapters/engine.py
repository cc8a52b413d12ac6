"""Stockfish through python-chess' UCI driver: every position of a game, reproducibly evaluated."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chess
import chess.engine
import polars as pl

from transforms.engine import EVALS_SCHEMA

DEBIAN_STOCKFISH = "/usr/games/stockfish"
_INFO = chess.engine.INFO_BASIC | chess.engine.INFO_SCORE
INSTALL_HINT = "install stockfish or set STOCKFISH_PATH (Debian: apt-get install stockfish)"


class EngineMissingError(RuntimeError):
    """No usable engine binary: the analysis is skipped, everything else still publishes."""


def find_engine(configured: str | None) -> str:
    """The engine binary: STOCKFISH_PATH if set, else `stockfish` on PATH, else Debian's path."""
    if configured:
        path = shutil.which(configured) or configured
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            raise EngineMissingError(
                f"STOCKFISH_PATH={configured!r} is not an executable file: {INSTALL_HINT}"
            )
        return path
    found = shutil.which("stockfish")
    if found:
        return found
    if os.access(DEBIAN_STOCKFISH, os.X_OK):
        return DEBIAN_STOCKFISH
    raise EngineMissingError(
        f"no chess engine found on PATH or at {DEBIAN_STOCKFISH}: {INSTALL_HINT}"
    )


@dataclass(frozen=True)
class EngineConfig:
    """What makes evaluations reproducible: the binary, a node limit, one thread, a fixed hash."""

    path: str
    nodes: int
    hash_mb: int = 16

    @property
    def limit(self) -> str:
        return f"nodes={self.nodes} hash={self.hash_mb}MB threads=1"


@dataclass(frozen=True)
class GameJob:
    """One game to analyse: its id, the player it belongs to, its start and its moves (UCI)."""

    game_id: str
    username: str
    initial_fen: str | None
    moves: tuple[str, ...]
    chess960: bool = False


class Engine:
    """One engine process, configured once; `evaluate` runs every position of a game."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        try:
            self._engine = chess.engine.SimpleEngine.popen_uci(config.path)
        except (OSError, chess.engine.EngineError) as error:
            raise EngineMissingError(
                f"cannot start the engine at {config.path!r} ({error}): {INSTALL_HINT}"
            ) from error
        # One thread: with more, the search (and so the score at a node limit) depends on timing.
        self._engine.configure({"Threads": 1, "Hash": config.hash_mb})
        self.name = str(self._engine.id.get("name", Path(config.path).name))
        self.calls = 0

    def close(self) -> None:
        self._engine.quit()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def evaluate(self, job: GameJob) -> list[tuple[Any, ...]]:
        """Rows of EVALS_SCHEMA for positions 0 (the start) to the last, in ply order."""
        board = chess.Board(job.initial_fen or chess.STARTING_FEN, chess960=job.chess960)
        limit = chess.engine.Limit(nodes=self.config.nodes)
        rows: list[tuple[Any, ...]] = []
        for ply in range(len(job.moves) + 1):
            if ply:
                try:
                    board.push_uci(job.moves[ply - 1])
                except ValueError:
                    break  # an illegal move (a parser bug): keep the positions before it
            cp: int | None = None
            mate: int | None = None
            best: str | None = None
            nodes: int | None = None
            if board.is_checkmate():
                mate = 0  # the side to move is mated; the engine has nothing to search
            elif board.is_stalemate():
                cp = 0
            else:
                # game= makes python-chess send ucinewgame when the game changes, which clears
                # the hash: a game's evaluations never depend on the games analysed before it.
                # play() runs the same search as analyse() (identical scores) but parses only
                # the score and counters, not every principal variation: half the Python time.
                result = self._engine.play(board, limit, game=job.game_id, info=_INFO)
                self.calls += 1
                score = result.info["score"].white()
                if score.is_mate():
                    mate = score.mate()
                else:
                    cp = score.score()
                best = result.move.uci() if result.move else None
                nodes = result.info.get("nodes")
            rows.append(
                (
                    job.game_id,
                    job.username,
                    ply,
                    board.turn == chess.WHITE,
                    cp,
                    mate,
                    best,
                    nodes,
                    self.name,
                    self.config.limit,
                )
            )
        return rows

    def evaluate_games(self, jobs: Sequence[GameJob]) -> pl.DataFrame:
        rows = [row for job in jobs for row in self.evaluate(job)]
        return pl.DataFrame(rows, schema=EVALS_SCHEMA, orient="row")


def engine_name(config: EngineConfig) -> str:
    """Start the engine once to read its name and version (`id name`), e.g. 'Stockfish 15.1'."""
    with Engine(config) as engine:
        return engine.name


def evaluate_batch(config: EngineConfig, jobs: Sequence[GameJob]) -> pl.DataFrame:
    """Evaluate a batch of games with an engine process of its own, closed afterwards.

    Starting the engine costs milliseconds against seconds of search per batch, and an engine
    kept in a worker beyond its batch would have to be shut down at interpreter exit, where
    python-chess' driver thread can no longer run.
    """
    with Engine(config) as engine:
        return engine.evaluate_games(jobs)


def evaluate_in_pool(
    config: EngineConfig, batches: Sequence[Sequence[GameJob]], workers: int
) -> Iterator[pl.DataFrame]:
    """Each batch's evaluations, in order, from `workers` engine processes (one in-process)."""
    if workers <= 1 or len(batches) <= 1:
        with Engine(config) as engine:
            for batch in batches:
                yield engine.evaluate_games(batch)
        return
    # "spawn", not fork: forking a process that runs Polars' thread pool can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context) as pool:
        yield from pool.map(evaluate_batch, [config] * len(batches), batches)
