"""Prefect flows of the refresh: a task per stage, a flow run per player, the roster nightly."""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State, TaskRun
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.tasks import Task, exponential_backoff
from sqlalchemy.exc import OperationalError

from adapters.chesscom import ChessComClient, ChessComUnavailableError
from adapters.database import Database, PublishError
from adapters.migrations import SchemaNotCurrentError
from adapters.raw_store import PlayerLockedError
from adapters.roster import list_players
from pipeline import refresh as runner
from pipeline.analyse import AnalyseReport
from pipeline.fetch import FetchReport, fetch_player
from pipeline.parse import ParseReport, parse_player
from pipeline.publish import PublishReport, publish_player
from pipeline.refresh import Adapters
from pipeline.summarise import SummariseReport, summarise_player
from settings import Settings
from transforms.registry import SUMMARIES
from transforms.usernames import normalize_username

T = TypeVar("T")

# Players refreshed side by side by the roster flow. Chess.com still sees one request at a time
# (the `chesscom` limit), so more only wait; these overlap one player's parse with another's fetch.
MAX_PLAYERS_IN_PARALLEL = 4
# The global concurrency limit every Chess.com request takes a slot of, on every worker.
CHESSCOM_LIMIT = "chesscom"

# The caller's settings (the CLI, a test): flows never build their own when given some. A
# deployment run has no caller, so there the flow is the entry point and reads the environment.
# Not a flow parameter: parameters are stored and shown by the server, DATABASE_URL's password
# with them.
_caller_settings: contextvars.ContextVar[Settings | None] = contextvars.ContextVar(
    "caller_settings", default=None
)


@contextlib.contextmanager
def using_settings(settings: Settings) -> Iterator[None]:
    """Run flows called inside this block with the caller's settings."""
    token = _caller_settings.set(settings)
    try:
        yield
    finally:
        _caller_settings.reset(token)


def _settings() -> Settings:
    return _caller_settings.get() or Settings()


class PlayerRefreshError(RuntimeError):
    """A player was not refreshed completely; carries what the stages did."""

    def __init__(self, message: str, outcome: runner.PlayerOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome

    def __reduce__(self) -> tuple[Any, ...]:
        # Prefect pickles a failed run's exception; keep the outcome through that.
        return (type(self), (str(self), self.outcome))


class RosterRefreshError(RuntimeError):
    """Some players of a roster run were not refreshed; names them and says why."""

    def __init__(self, message: str, outcomes: list[runner.PlayerOutcome]) -> None:
        super().__init__(message)
        self.outcomes = outcomes

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.outcomes))


# --- one request in flight across workers ---------------------------------------------------

_limit_ready: set[str] = set()


def _ensure_chesscom_limit() -> None:
    """Create the `chesscom` limit (1 slot) on first use if the deploy steps did not."""
    api_url = str(get_client(sync_client=True).api_url)
    if api_url in _limit_ready:
        return
    # Two runs starting at once both find it missing: the second create answers 409, which
    # means the limit is there, as wanted.
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.upsert_global_concurrency_limit_by_name(CHESSCOM_LIMIT, 1)
    _limit_ready.add(api_url)


def chesscom_slot() -> contextlib.AbstractContextManager[object]:
    """One slot of the global `chesscom` limit, held for one request (strict: never unlimited)."""
    return concurrency(CHESSCOM_LIMIT, occupy=1, strict=True)


# --- tasks: one per stage, each a call of the stage function ----------------------------------


def _transient(
    kinds: tuple[type[BaseException], ...], never: tuple[type[BaseException], ...] = ()
) -> Callable[[Task[Any, Any], TaskRun, State[Any]], bool]:
    """Retry only failures that another attempt can fix (Chess.com or the database away)."""

    def condition(_task: Task[Any, Any], _run: TaskRun, state: State[Any]) -> bool:
        error = state.result(raise_on_failure=False)
        return isinstance(error, kinds) and not isinstance(error, never)

    return condition


@task(
    name="fetch",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=30),
    retry_jitter_factor=0.5,
    retry_condition_fn=_transient((ChessComUnavailableError, PlayerLockedError)),
)
def fetch_task(a: Adapters, username: str, full: bool) -> FetchReport:
    """New and changed months from Chess.com into the raw store (each request takes a slot)."""
    return fetch_player(
        a.source,
        a.store,
        username,
        full=full,
        now=a.clock(),
        revalidate_after_days=a.revalidate_after_days,
    )


@task(name="parse", cache_policy=NO_CACHE)
def parse_task(a: Adapters, username: str) -> ParseReport:
    """Raw months whose bytes or parser changed into the Parquet lake."""
    return parse_player(a.store, a.lake, username, workers=a.parse_workers)


def analyse_step(settings: Settings, a: Adapters, username: str) -> AnalyseReport | None:
    """The engine stage: with a budget, its batches are tasks on Dask (flows/analyse.py, a
    subflow); without one, the stage only reads the engine's tag, so the no-op check and the
    published coverage match the command line's."""
    if settings.engine_budget_games > 0:
        # Imported here: Dask is heavy, and a refresh without an engine budget never needs it.
        from flows.analyse import run_analyse_flow

        return run_analyse_flow(settings, username)
    return a.analyse(username) if a.analyse is not None else None


@task(name="summarise", cache_policy=NO_CACHE)
def summarise_task(a: Adapters, username: str, engine_tag: str | None) -> SummariseReport:
    """Every summary from the lake in DuckDB (engine facts under `engine_tag`), left in the
    lake by name."""
    return summarise_player(
        a.lake,
        username,
        a.timezone_for(username),
        engine_tag=engine_tag,
        engine_lake=a.engine_lake,
    )


@task(
    name="publish",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=exponential_backoff(backoff_factor=10),
    retry_jitter_factor=0.5,
    # PublishError: the database's own retries ran out (e.g. Neon still waking up); a schema
    # that needs `db upgrade` will not fix itself.
    retry_condition_fn=_transient((OperationalError, PublishError), never=(SchemaNotCurrentError,)),
)
def publish_task(a: Adapters, username: str, engine_tag: str | None) -> PublishReport:
    """The summaries the lake holds and its games, published in one transaction."""
    return publish_player(
        a.database, a.lake, username, engine_tag=engine_tag, engine_lake=a.engine_lake
    )


# --- the per-player flow ---------------------------------------------------------------------


def _player_run_name() -> str:
    username = str(flow_run.parameters.get("username", "player")).lower()
    return f"refresh-{username}-{datetime.now(UTC):%Y-%m-%d}"


def _artifact_key(prefix: str, username: str) -> str:
    # Artifact keys allow lowercase letters, digits and dashes only; usernames also have "_".
    return f"{prefix}-{username.lower().replace('_', '-')}"


def _player_table(outcome: runner.PlayerOutcome, seconds: dict[str, float]) -> list[dict[str, str]]:
    rows: list[tuple[str, object]] = []
    i, p, pub = outcome.fetch, outcome.parse, outcome.publish
    if i is not None:
        rows += [
            ("months listed", i.months_listed),
            ("months fetched", len(i.fetched)),
            ("months not modified", len(i.unchanged)),
            ("months not due", len(i.skipped)),
            ("months failed", len(i.failed)),
        ]
        rows += [(f"failed {month}", reason) for month, reason in sorted(i.failed.items())]
    if p is not None:
        rows += [
            ("months parsed", len(p.months_parsed)),
            ("games parsed", p.games),
            ("games rejected", p.parse_errors),
        ]
        rows += [(f"parse failed {m}", reason) for m, reason in sorted(p.failed_months.items())]
    if outcome.unchanged is not None:
        rows += [("summaries published", "0 (unchanged)"), ("snapshot id", outcome.unchanged)]
    if pub is not None:
        rows += [
            ("summaries published", len(SUMMARIES)),
            ("rows published", pub.rows),
            ("snapshot id", pub.snapshot_id),
            ("bytes published", pub.bytes),
        ]
    rows += [(f"seconds {stage}", f"{spent:.2f}") for stage, spent in seconds.items()]
    if outcome.error is not None:
        rows.append(("error", outcome.error))
    return [{"item": item, "value": str(value)} for item, value in rows]


def _timed(seconds: dict[str, float], stage: str, call: Callable[[], T]) -> T:
    start = time.perf_counter()
    try:
        return call()
    finally:
        seconds[stage] = time.perf_counter() - start


@flow(name="refresh-player", flow_run_name=_player_run_name, log_prints=False)
def refresh_player(
    username: str, full: bool = False, offline: bool = False
) -> runner.PlayerOutcome:
    """Fetch, parse, summarise and publish one player; Failed unless refreshed completely.

    `offline` rebuilds from the raw store without asking Chess.com.
    """
    logger = get_run_logger()
    settings = _settings()
    name = normalize_username(username)
    outcome = runner.PlayerOutcome(username=name)
    seconds: dict[str, float] = {}
    try:
        client = ChessComClient(settings, request_gate=chesscom_slot)
        a = runner.build_adapters(settings, client)
        # The player's lock covers every stage (re-entrant in this thread, where the tasks
        # run), so two runs of one player never interleave lake writes or publish a mix.
        with client, a.store.lock(name):
            if not offline:
                _ensure_chesscom_limit()
                outcome.fetch = _timed(seconds, "fetch", lambda: fetch_task(a, name, full))
                name = outcome.username = outcome.fetch.username
                outcome.warnings += outcome.fetch.failed.values()
            elif not a.store.stored_months(name):
                raise LookupError(
                    f"no stored archives for {name!r} under {settings.raw_dir}: "
                    "run `chess-patterns refresh` online or `chess-patterns import` first"
                )
            outcome.parse = _timed(seconds, "parse", lambda: parse_task(a, name))
            outcome.warnings += outcome.parse.failed_months.values()
            outcome.analyse = _timed(seconds, "analyse", lambda: analyse_step(settings, a, name))
            tag = outcome.analyse.engine_tag if outcome.analyse is not None else None
            if outcome.analyse is not None and outcome.analyse.failed:
                outcome.warnings.append(outcome.analyse.failed)
            # Checked in the flow, not a task: a no-op run costs no task run at all.
            fingerprint = runner.source_of(a, name, engine_tag=tag)
            fresh = outcome.analyse is not None and bool(outcome.analyse.analysed_now)
            outcome.unchanged = None if fresh else runner.unchanged(a, name, fingerprint)
            if outcome.unchanged is None:
                outcome.summarise = _timed(
                    seconds, "summarise", lambda: summarise_task(a, name, tag)
                )
                outcome.publish = _timed(seconds, "publish", lambda: publish_task(a, name, tag))
                runner.record(a, name, fingerprint, outcome.publish)
    except Exception as error:
        text = str(error) or type(error).__name__
        # The stages' own errors name the player already; anything else gets the name here.
        outcome.error = text if name in text else f"{name}: {type(error).__name__}: {text}"
        raise PlayerRefreshError(outcome.error, outcome) from error
    finally:
        create_table_artifact(
            _player_table(outcome, seconds),
            key=_artifact_key("refresh", name),
            description=f"Refresh of {name}",
        )
    for warning in outcome.warnings:
        logger.warning(warning)
    if outcome.warnings:
        # Published what could be, but a month is missing: the run must not show green.
        raise PlayerRefreshError(
            f"{name}: {len(outcome.warnings)} months not refreshed: " + "; ".join(outcome.warnings),
            outcome,
        )
    if outcome.unchanged is not None:
        logger.info("%s: unchanged (snapshot %s)", name, outcome.unchanged)
    else:
        assert outcome.publish is not None
        logger.info(
            "%s: %d games, snapshot %s", name, outcome.parse.games, outcome.publish.snapshot_id
        )
    return outcome


# --- the roster flow -------------------------------------------------------------------------


@task(name="player-run", cache_policy=NO_CACHE)
def _player_run(
    settings: Settings, username: str, full: bool, offline: bool
) -> runner.PlayerOutcome:
    """One player's own flow run; a failure comes back as its outcome, never raised."""
    with using_settings(settings):
        state = refresh_player(username, full=full, offline=offline, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, runner.PlayerOutcome):
        return result
    if isinstance(result, PlayerRefreshError):
        return result.outcome
    message = state.message or (str(result) if result is not None else "no result")
    return runner.PlayerOutcome(username=username, error=f"{username}: {message}")


def _overview(outcomes: Sequence[runner.PlayerOutcome]) -> list[dict[str, str]]:
    rows = []
    for o in outcomes:
        rows.append(
            {
                "player": o.username,
                "state": "refreshed" if o.ok else "FAILED",
                "months fetched": str(len(o.fetch.fetched)) if o.fetch else "",
                "games": str(o.parse.games) if o.parse else "",
                "snapshot": o.publish.snapshot_id if o.publish else (o.unchanged or ""),
                "published": "yes" if o.publish else ("unchanged" if o.unchanged else "no"),
                "why": o.error or "; ".join(o.warnings),
            }
        )
    return rows


@flow(
    name="refresh-players",
    # Prefect's flow decorator types its runner parameter invariantly; the thread pool is one.
    task_runner=cast(
        "TaskRunner[PrefectFuture[Any]]",
        ThreadPoolTaskRunner(max_workers=MAX_PLAYERS_IN_PARALLEL),
    ),
)
def refresh_players(
    usernames: list[str] | None = None, full: bool = False, offline: bool = False
) -> list[runner.PlayerOutcome]:
    """Refresh the players named (default: the roster), each in its own flow run.

    At most MAX_PLAYERS_IN_PARALLEL at once; one failing never stops the others; the run ends
    Failed naming every player not refreshed and why.
    """
    logger = get_run_logger()
    settings = _settings()
    names = (
        list(usernames)
        if usernames
        else [p.username for p in list_players(Database.from_settings(settings))]
    )
    if not names:
        logger.warning("no players to refresh: add some with `chess-patterns track add USER`")
        return []
    futures = [_player_run.submit(settings, name, full, offline) for name in names]
    outcomes = [future.result() for future in futures]
    create_table_artifact(_overview(outcomes), key="refresh-roster", description="Roster refresh")
    failed = [o for o in outcomes if not o.ok]
    if failed:
        reasons = "; ".join(o.error or "; ".join(o.warnings) for o in failed)
        raise RosterRefreshError(
            f"{len(failed)} of {len(outcomes)} players not refreshed "
            f"({', '.join(o.username for o in failed)}): {reasons}",
            outcomes,
        )
    return outcomes


def run_refresh(
    settings: Settings, usernames: Sequence[str], *, full: bool = False, offline: bool = False
) -> list[runner.PlayerOutcome]:
    """The CLI's way in: the roster flow with the caller's settings, every outcome returned."""
    with using_settings(settings):
        try:
            return refresh_players(list(usernames), full=full, offline=offline)
        except RosterRefreshError as error:
            return error.outcomes
