"""The analyses worker: takes queued on-demand analyses one at a time and refreshes each player."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from adapters.analyses import Analysis, AnalysisQueue
from adapters.database import Database
from adapters.raw_store import now_utc
from pipeline.refresh import Adapters, PlayerOutcome, build_adapters, open_adapters, run_player

if TYPE_CHECKING:
    from pipeline.ports import ChessComSource
    from settings import Settings

log = logging.getLogger(__name__)

# What a player reads when an analysis fails, by the refresh's failure (PlayerOutcome.error_kind).
REASONS = {
    "PlayerNotFoundError": "no such Chess.com player",
    "PlayerGoneError": "the Chess.com account is closed",
    "BlockedError": "Chess.com is blocking us, try later",
    "ChessComUnavailableError": "Chess.com is not answering, try later",
    "PlayerLockedError": "the player was being refreshed already; ask again in a minute",
}


def failure_reason(outcome: PlayerOutcome) -> str:
    """The failure in words a player understands."""
    known = REASONS.get(outcome.error_kind or "")
    if known is not None:
        return known
    return f"the archives could not be read: {outcome.error or 'nothing was published'}"


def work_one(adapters: Adapters, queue: AnalysisQueue) -> Analysis | None:
    """Claims the oldest queued analysis, refreshes its player and records the end; the
    analysis as claimed, or None when nothing was queued."""
    analysis = queue.claim(adapters.clock())
    if analysis is None:
        return None
    log.info("analysis %s: refreshing %s", analysis.id, analysis.username)
    try:
        outcome = run_player(adapters, analysis.username)
    except BaseException:
        # run_player reports failures rather than raising; this is an interrupt: hand it back.
        queue.finish(
            analysis.id, state="failed", now=adapters.clock(), reason="the worker was stopped"
        )
        raise
    if outcome.error is None and outcome.publish is not None:
        queue.finish(
            analysis.id,
            state="succeeded",
            now=adapters.clock(),
            snapshot_id=outcome.publish.snapshot_id,
        )
    else:
        reason = failure_reason(outcome)
        log.warning("analysis %s of %s failed: %s", analysis.id, analysis.username, outcome.error)
        queue.finish(analysis.id, state="failed", now=adapters.clock(), reason=reason)
    return analysis


def run_worker(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    until_idle: bool = False,
    client: ChessComSource | None = None,
) -> int:
    """Works through queued analyses one at a time until `stop` is set (or, with until_idle,
    until the queue is empty); how many it took. Analyses a stopped worker left running are
    queued again first."""
    stop = stop or threading.Event()
    queue = AnalysisQueue(Database.from_settings(settings), pool_size=1)
    done = 0
    try:
        before = now_utc() - timedelta(seconds=settings.analysis_stale_seconds)
        requeued = queue.requeue_stale(before)
        if requeued:
            log.info("queued %d analyses again that a stopped worker had left running", requeued)

        def loop(adapters: Adapters) -> int:
            count = 0
            while not stop.is_set():
                try:
                    taken = work_one(adapters, queue)
                except Exception:
                    # The queue's database went away (Neon waking up): wait and look again.
                    log.exception("analyses worker: the queue could not be read")
                    taken = None
                if taken is not None:
                    count += 1
                    continue
                if until_idle:
                    break
                stop.wait(settings.analysis_worker_poll_seconds)
            return count

        if client is not None:
            done = loop(build_adapters(settings, client))
        else:
            with open_adapters(settings) as adapters:
                done = loop(adapters)
    finally:
        queue.close()
    return done
