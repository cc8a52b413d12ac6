"""The Prefect refresh flow: one task per player, each running pipeline.refresh.refresh_player."""

from __future__ import annotations

from typing import Any, cast

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from pipeline import refresh as runner
from settings import Settings


# A refresh must always look at Chess.com and the store again, so no result caching.
@task(name="refresh-player", cache_policy=NO_CACHE)
def refresh_player_task(
    settings: Settings, username: str, full: bool, offline: bool
) -> runner.PlayerOutcome:
    """Ingest, parse, summarise and publish one player; failures come back in the outcome."""
    return runner.refresh_player(settings, username, full=full, offline=offline)


@flow(
    name="refresh-players",
    # Prefect's flow decorator types its runner parameter invariantly; the thread pool is one.
    task_runner=cast(
        "TaskRunner[PrefectFuture[Any]]",
        ThreadPoolTaskRunner(max_workers=runner.MAX_PLAYERS_IN_PARALLEL),
    ),
)
def refresh_flow(
    usernames: list[str], full: bool = False, offline: bool = False
) -> list[runner.PlayerOutcome]:
    """Refresh each player side by side; Chess.com still sees one request at a time."""
    settings = Settings()
    futures = [refresh_player_task.submit(settings, name, full, offline) for name in usernames]
    return [future.result() for future in futures]
