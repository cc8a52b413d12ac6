"""The refresh runner's names where flows and older callers look for them (see pipeline/)."""

from __future__ import annotations

from pipeline.refresh import (
    MAX_PLAYERS_IN_PARALLEL,
    PlayerOutcome,
    refresh_player,
    refresh_players,
)

__all__ = ["MAX_PLAYERS_IN_PARALLEL", "PlayerOutcome", "refresh_player", "refresh_players"]
