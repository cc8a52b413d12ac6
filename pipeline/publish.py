"""The publish stage: the player's stored summaries and games into the serving database."""

from __future__ import annotations

from adapters import publish
from adapters.database import Database
from adapters.publish import PublishReport
from pipeline.analyse import EngineFacts, engine_facts
from pipeline.ports import SummaryLake
from transforms.usernames import normalize_username


def publish_player(
    database: Database,
    lake: SummaryLake,
    username: str,
    *,
    engine_tag: str | None = None,
    engine_lake: EngineFacts | None = None,
) -> PublishReport:
    """Publish what `summarise_player` left in the lake, with the lake's games, in one
    transaction (a failure leaves the previous snapshot served). The games carry the engine's
    accuracy and ACPL of the player's side where `engine_tag`'s evaluations cover them."""
    user = normalize_username(username)
    summaries = lake.read_summaries(user)
    if not summaries:
        raise LookupError(
            f"no summaries of {user!r} in the lake: run the summarise stage before publishing"
        )
    games = lake.read_games(user)
    if engine_tag is not None and engine_lake is not None:
        _, _, games = engine_facts(engine_lake, user, engine_tag, games)
    return publish.publish_player(database, user, summaries, games)


__all__ = ["PublishReport", "publish_player"]
