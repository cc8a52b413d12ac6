"""The publish stage: the player's stored summaries and games into the serving database."""

from __future__ import annotations

from adapters import publish
from adapters.database import Database
from adapters.publish import PublishReport
from pipeline.ports import SummaryLake
from transforms.usernames import normalize_username


def publish_player(database: Database, lake: SummaryLake, username: str) -> PublishReport:
    """Publish what `summarise_player` left in the lake, with the lake's games, in one
    transaction (a failure leaves the previous snapshot served)."""
    user = normalize_username(username)
    summaries = lake.read_summaries(user)
    if not summaries:
        raise LookupError(
            f"no summaries of {user!r} in the lake: run the summarise stage before publishing"
        )
    return publish.publish_player(database, user, summaries, lake.read_games(user))


__all__ = ["PublishReport", "publish_player"]
