"""The engine analysis under Prefect: batches of games as tasks on a Dask cluster (prefect-dask)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner
from prefect_dask.task_runners import DaskTaskRunner

from adapters.engine import EngineConfig, GameJob, evaluate_batch
from pipeline.analyse import AnalyseReport, BatchRunner, analyse
from settings import Settings


# Evaluations are written to the lake by the flow as batches come back; caching them in Prefect
# too would keep a second copy. One retry: a Dask worker lost mid-batch just loses that batch.
@task(name="evaluate-games", cache_policy=NO_CACHE, retries=1)
def evaluate_games_task(config: EngineConfig, jobs: list[GameJob]) -> pl.DataFrame:
    """Every position of a batch of games, by one engine process on a Dask worker."""
    return evaluate_batch(config, jobs)


def dask_task_runner(settings: Settings) -> TaskRunner[PrefectFuture[Any]]:
    """An existing cluster when DASK_SCHEDULER_ADDRESS is set, else a local one.

    The local cluster has ENGINE_WORKERS worker processes of one thread each: one engine per
    core, and a process per worker so engines never share a Python interpreter's lock.
    """
    if settings.dask_scheduler_address:
        runner = DaskTaskRunner(address=settings.dask_scheduler_address)
    else:
        runner = DaskTaskRunner(
            cluster_kwargs={
                "n_workers": settings.engine_workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    # Prefect types a flow's task runner invariantly; the Dask runner is one.
    return cast("TaskRunner[PrefectFuture[Any]]", runner)


def _submit(config: EngineConfig) -> BatchRunner:
    def run(batches: Sequence[Sequence[GameJob]]) -> Iterator[pl.DataFrame]:
        futures = [evaluate_games_task.submit(config, list(batch)) for batch in batches]
        for future in futures:
            yield future.result()

    return run


@flow(name="analyse-player")
def analyse_flow(username: str, settings: Settings | None = None) -> AnalyseReport:
    """Analyse a player's games not yet analysed at the current engine settings, on Dask."""
    return analyse(settings or Settings(), username, runner=_submit)


def run_analyse_flow(settings: Settings, username: str) -> AnalyseReport:
    """The flow on the Dask task runner the settings choose."""
    return analyse_flow.with_options(task_runner=dask_task_runner(settings))(username, settings)
