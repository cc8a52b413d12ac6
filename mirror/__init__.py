"""The Chess.com mirror: `chess-patterns mirror` for offline runs, and the tests' HTTP double."""

from mirror.server import (
    BLOCKED_HTML,
    Fault,
    FaultPlan,
    MirrorServer,
    RequestRecord,
    running_mirror,
    serve_mirror,
)

__all__ = [
    "BLOCKED_HTML",
    "Fault",
    "FaultPlan",
    "MirrorServer",
    "RequestRecord",
    "running_mirror",
    "serve_mirror",
]
