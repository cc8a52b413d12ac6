"""The `chess-patterns` command line: refresh, serve, worker, mirror, report, import, db upgrade."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from fastapi import FastAPI

    from adapters.database import Database
    from pipeline.refresh import PlayerOutcome, StageListener
    from settings import Settings

app = typer.Typer(
    help="Learn what in your own Chess.com games wins and loses you points.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Manage the published database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
track_app = typer.Typer(
    help="The roster: players the nightly refresh keeps up to date.", no_args_is_help=True
)
app.add_typer(track_app, name="track")

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print one clear line (no traceback) and return the exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _settings() -> Settings:
    """Build the one settings object at the entry point, with a readable error if it is wrong."""
    from settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        raise _fail(f"invalid settings: {problems}") from None


def _database(settings: Settings, *, api: bool = False) -> Database:
    """The publish target (api=True: the API's read-only connection), checked once here: a bad
    DATABASE_URL or API_DATABASE_URL is one line, not a traceback."""
    from adapters.database import Database, DatabaseUrlError

    try:
        return Database.for_api(settings) if api else Database.from_settings(settings)
    except DatabaseUrlError as error:
        raise _fail(str(error)) from None


def _describe(outcome: PlayerOutcome) -> str:
    parts: list[str] = []
    if outcome.fetch is not None:
        i = outcome.fetch
        parts.append(
            f"{i.months_listed} months listed, {len(i.fetched)} fetched, "
            f"{len(i.unchanged)} unchanged, {len(i.failed)} failed"
        )
    if outcome.parse is not None:
        p = outcome.parse
        parts.append(
            f"{len(p.months_parsed)} months parsed ({len(p.months_skipped)} up to date), "
            f"{p.games} games, {p.parse_errors} unparsable"
        )
    if outcome.analyse is not None:
        parts.append(outcome.analyse.describe())
    if outcome.unchanged is not None:
        parts.append(f"unchanged, snapshot {outcome.unchanged}")
    if outcome.publish is not None:
        pub = outcome.publish
        parts.append(
            f"published {pub.rows} rows ({pub.bytes / 1024:.0f} KiB), snapshot {pub.snapshot_id}"
        )
    return "; ".join(parts)


def _stage_text(player: str, stage: str, outcome: PlayerOutcome) -> str:
    if stage == "fetch" and outcome.fetch is not None:
        i = outcome.fetch
        return f"{player}: {len(i.fetched)} months fetched ({i.months_listed} listed)"
    if stage == "parse" and outcome.parse is not None:
        return (
            f"{player}: {outcome.parse.games} games parsed, {outcome.parse.parse_errors} rejected"
        )
    if stage == "publish":
        return f"{player}: {'unchanged' if outcome.unchanged else 'published'}"
    return f"{player}: failed"


@contextlib.contextmanager
def _progress(names: list[str]) -> Iterator[StageListener]:
    """A bar per player on a terminal (fetch, parse, publish); plain lines on stderr otherwise."""
    if not err.is_terminal:

        def line(player: str, stage: str, outcome: PlayerOutcome) -> None:
            # A failure is told once, by the one error line at the end, not also here.
            if stage != "failed":
                err.print(_stage_text(player, stage, outcome), highlight=False, soft_wrap=True)

        yield line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bars:
        tasks = {name: bars.add_task(f"{name}: fetching", total=3) for name in names}

        def bar(player: str, stage: str, outcome: PlayerOutcome) -> None:
            task = tasks.get(player)
            if task is None:
                return
            done = {"fetch": 1, "parse": 2, "publish": 3}.get(stage)
            bars.update(task, description=_stage_text(player, stage, outcome), completed=done)

        yield bar


@app.command()
def refresh(
    usernames: Annotated[
        list[str] | None,
        typer.Argument(help="Chess.com usernames (default: the roster).", metavar="[USER...]"),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Revalidate every stored month, not just recent ones.")
    ] = False,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Rebuild from the raw store without asking Chess.com."),
    ] = False,
) -> None:
    """Fetch players' archives, parse them, compute every summary and publish it.

    Reads CHESSCOM_BASE_URL, CHESSCOM_USER_AGENT, DATA_DIR, DATABASE_URL, PLAYER_TIMEZONES and the
    other CHESSCOM_* settings. Runs as a Prefect flow when PREFECT_API_URL names a server, else runs
    the same stages directly. Without USER, refreshes the roster (`chess-patterns track`). Exits 0
    only when every player was refreshed completely.
    """
    settings = _settings()
    names = list(usernames or [])
    if not names:
        from adapters.roster import list_players

        names = [p.username for p in list_players(_database(settings))]
        if not names:
            raise _fail("no USER given and the roster is empty: `chess-patterns track add USER`")
    # A name that cannot be a Chess.com username stops the command before anything runs.
    from transforms.usernames import InvalidUsernameError, normalize_username

    for name in names:
        try:
            normalize_username(name)
        except InvalidUsernameError as error:
            raise _fail(str(error)) from None
    if os.environ.get("PREFECT_API_URL"):
        from flows.refresh import run_refresh

        outcomes = run_refresh(settings, names, full=full, offline=offline)
    else:
        from pipeline.refresh import refresh_players

        database = _database(settings)
        with _progress(names) as on_stage:
            outcomes = refresh_players(
                settings, names, full=full, offline=offline, database=database, on_stage=on_stage
            )
    for outcome in outcomes:
        if outcome.error is not None:
            err.print(f"[bold red]error:[/] {outcome.error}", highlight=False, soft_wrap=True)
            continue
        out.print(f"[bold]{outcome.username}[/]: {_describe(outcome)}", highlight=False)
        for note in outcome.parse.termination_notes if outcome.parse is not None else []:
            err.print(f"[yellow]warning:[/] {outcome.username}: {note}", highlight=False)
        for warning in outcome.warnings:
            err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(1)


@app.command(name="import")
def import_(
    username: Annotated[str, typer.Argument(help="The player the games belong to.")],
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Monthly JSON bodies or PGN exports.",
            exists=True,
            dir_okay=False,
            metavar="FILE...",
        ),
    ],
) -> None:
    """Import monthly JSON bodies or PGN exports into the raw store, each game once.

    Reads DATA_DIR. Follow with `chess-patterns refresh USER --offline` to publish them.
    """
    from adapters.raw_store import PlayerLockedError, RawStore
    from pipeline.imports import import_files
    from transforms.usernames import normalize_username

    settings = _settings()
    try:
        report = import_files(RawStore(settings.raw_dir), normalize_username(username), files)
    except (ValueError, OSError, PlayerLockedError) as error:
        raise _fail(str(error)) from None
    out.print(
        f"[bold]{report.username}[/]: {report.games_added} games added, "
        f"{report.games_already_present} already stored, "
        f"{len(report.months_written)} months written",
        highlight=False,
    )
    for note in report.unread_terminations.lines():
        # Before any replay: the refresh lets the final position decide what it can.
        err.print(
            f"[yellow]warning:[/] {report.username}: {note}; `refresh` lets the final position "
            "decide checkmate, stalemate and insufficient material",
            highlight=False,
            soft_wrap=True,
        )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="On the embedded SQLite default, run queued analyses in a background thread.",
        ),
    ] = True,
) -> None:
    """Serve the summary API (and its docs at /docs); its only write is recording analyses.

    Reads DATABASE_URL (or DATA_DIR for the embedded SQLite), REDIS_URL and the API_* settings.
    """
    import uvicorn

    from api.app import create_app

    settings = _settings()
    database = _database(settings)
    if database.dialect == "sqlite":
        # The embedded database may not exist before the first refresh: create its tables so a
        # player not yet published answers 404, not 503. PostgreSQL is migrated by `db upgrade`.
        from adapters.migrations import upgrade_schema

        upgrade_schema(database)
    _database(settings, api=True)
    api = create_app(settings)
    if database.dialect == "sqlite" and worker and not os.environ.get("PREFECT_API_URL"):
        # The embedded default has no other process to run on-demand analyses: one thread here.
        _with_worker_thread(api, settings)
    uvicorn.run(api, host=host, port=port, access_log=False)


def _with_worker_thread(api: FastAPI, settings: Settings) -> None:
    """Runs an analyses worker in a thread while the app is up, stopped when it shuts down.
    The thread imports the pipeline itself, so the API's start never waits for Polars."""
    import threading
    from contextlib import asynccontextmanager

    inner = api.router.lifespan_context

    def work(stop: threading.Event) -> None:
        from pipeline.analyses import run_worker

        run_worker(settings, stop=stop)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        stop = threading.Event()
        thread = threading.Thread(target=work, args=(stop,), name="analyses-worker", daemon=True)
        thread.start()
        try:
            async with inner(app) as state:
                yield state
        finally:
            stop.set()  # the worker ends after the analysis it is running

    api.router.lifespan_context = lifespan


@app.command()
def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Stop when no analysis is queued.")
    ] = False,
) -> None:
    """Run queued on-demand analyses (POST /v1/analyses) one at a time, until interrupted.

    Reads DATABASE_URL (the queue is its analyses table) and the CHESSCOM_* and ANALYSIS_*
    settings. Analyses a stopped worker left running are queued again at start.
    """
    from pipeline.analyses import run_worker

    settings = _settings()
    _database(settings)
    try:
        done = run_worker(settings, until_idle=until_idle)
    except KeyboardInterrupt:
        return
    out.print(f"{done} analyses run", highlight=False)


@app.command()
def mirror(
    directory: Annotated[
        Path,
        typer.Argument(help="A folder laid out as <user>/<YYYY>/<MM>.json.", file_okay=False),
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve a folder of monthly archives over HTTP exactly like the Chess.com PubAPI.

    Point CHESSCOM_BASE_URL at http://HOST:PORT/pub to refresh from it. Reads no settings.
    """
    from mirror import serve_mirror

    if not directory.is_dir():
        raise _fail(f"{directory} is not a folder of archives (<user>/<YYYY>/<MM>.json)")
    serve_mirror(directory, host=host, port=port)


@app.command()
def report(
    username: Annotated[str, typer.Argument(help="A published player.")],
) -> None:
    """Print every published summary of a player as tables in the terminal.

    Reads DATABASE_URL (or DATA_DIR for the embedded SQLite). Every table comes from one
    snapshot, read in one transaction, even while the player is being published again.
    """
    from adapters.reads import read_published
    from report import render_report
    from transforms.usernames import InvalidUsernameError, normalize_username

    settings = _settings()
    try:
        name = normalize_username(username)
    except InvalidUsernameError as error:
        raise _fail(str(error)) from None
    published = read_published(_database(settings), name)
    if published is None:
        raise _fail(f"{name!r} has not been published yet: run `chess-patterns refresh {name}`")
    render_report(out, name, published.summaries)


@track_app.command("add")
def track_add(
    username: Annotated[str, typer.Argument(help="A Chess.com username.")],
    timezone: Annotated[
        str | None,
        typer.Option(help="IANA time zone of the player's time_of_day (e.g. Europe/Oslo)."),
    ] = None,
) -> None:
    """Put a player on the roster (or change its time zone). Reads DATABASE_URL (or DATA_DIR)."""
    from adapters.database import PublishError
    from adapters.roster import add_player
    from transforms.usernames import InvalidUsernameError

    settings = _settings()
    try:
        player = add_player(_database(settings), username, timezone)
    except (InvalidUsernameError, ValueError, PublishError) as error:
        raise _fail(str(error)) from None
    zone = player.timezone or f"{settings.timezone_for(player.username)} (default)"
    out.print(f"tracking [bold]{player.username}[/] (time zone {zone})", highlight=False)


@track_app.command("remove")
def track_remove(username: Annotated[str, typer.Argument(help="A tracked player.")]) -> None:
    """Take a player off the roster; its published summaries stay. Reads DATABASE_URL."""
    from adapters.database import PublishError
    from adapters.roster import remove_player
    from transforms.usernames import InvalidUsernameError

    settings = _settings()
    try:
        removed = remove_player(_database(settings), username)
    except (InvalidUsernameError, PublishError) as error:
        raise _fail(str(error)) from None
    if not removed:
        raise _fail(f"{username!r} is not on the roster: see `chess-patterns track list`")
    out.print(f"no longer tracking [bold]{username.lower()}[/]", highlight=False)


@track_app.command("list")
def track_list() -> None:
    """Print the roster, one player a line with its time zone. Reads DATABASE_URL."""
    from adapters.roster import list_players

    settings = _settings()
    for player in list_players(_database(settings)):
        zone = player.timezone or f"{settings.timezone_for(player.username)} (default)"
        out.print(f"{player.username}\t{zone}", highlight=False)


@db_app.command()
def upgrade() -> None:
    """Create or upgrade the published tables. Reads DATABASE_URL (or DATA_DIR)."""
    from adapters.migrations import upgrade_schema

    applied = upgrade_schema(_database(_settings()))
    out.print(f"applied {len(applied)} migrations" + (f": {', '.join(applied)}" if applied else ""))


def main() -> None:
    """Entry point that keeps Ctrl-C to one line."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
