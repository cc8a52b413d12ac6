"""The player page in a real browser (Debian's Chromium driven by Playwright) against the app
serving real fixture players: marks drawn, filters, "what to work on", the 404 and 422 pages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.database import Database
from adapters.publish import publish_player
from tests.api.conftest import REAL_PLAYER, make_settings
from tests.conftest import IN_CI, REPO, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECOND_PLAYER = "wizardchiken"
SCREENSHOTS = REPO / "artifacts" / "screenshots"  # git-ignored: test artefacts, not committed
Rows = list[dict[str, Any]]
STATUS_LINE = "Failed to load resource: the server responded with a status of"


def _frames(fixtures_dir: Path, player: str) -> tuple[dict[str, Any], Any]:
    import polars as pl

    from adapters.warehouse import compute_summaries_from_frames
    from transforms.archive import parse_month

    months = sorted((fixtures_dir / player).glob("[0-9]*/[0-9]*.json"))
    parsed = [parse_month(player, f"{p.parent.name}-{p.stem}", p.read_bytes()) for p in months]
    games = pl.concat([p.games for p in parsed])
    moves = pl.concat([p.moves for p in parsed])
    return compute_summaries_from_frames(games, moves, player), games


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    fixtures_dir: Path,
    real_frames: tuple[dict[str, Any], Any],
) -> Iterator[str]:
    """uvicorn on a free local port, serving a SQLite database with two real players."""
    from api.app import create_app

    tmp = tmp_path_factory.mktemp("page")
    url = f"sqlite:///{tmp / 'serving.sqlite'}"
    publish_player(Database.from_url(url), REAL_PLAYER, *real_frames)
    publish_player(Database.from_url(url), SECOND_PLAYER, *_frames(fixtures_dir, SECOND_PLAYER))
    app = create_app(make_settings(url, tmp, api_rate_limit_per_minute=1_000_000))
    with serving(app) as base:
        yield base


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app under uvicorn in a thread, on a free local port."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if uv.started:
            break
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Opened:
    """A page with the console errors and failed requests it produced."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def drawn(self) -> None:
        self.page.wait_for_selector("#app[data-drawn=true]", timeout=60_000)


@pytest.fixture
def open_page(browser: Any, server: str) -> Iterator[Callable[..., Opened]]:
    contexts: list[Any] = []

    def open_(path: str, width: int = 1280) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        opened = Opened(context.new_page())
        opened.response = opened.page.goto(server + path)  # type: ignore[attr-defined]
        return opened

    yield open_
    for context in contexts:
        context.close()


def api(server: str, path: str, **params: str) -> dict[str, Any]:
    # params only when given: an empty mapping would drop a query already in the path
    response = httpx.get(server + path, params=params or None, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# -- the marks each chart should draw, computed from the API's rows --------------------------------


def _summary(server: str, user: str, name: str, **params: str) -> Rows:
    rows: Rows = api(server, f"/v1/players/{user}/summaries/{name}", **params)["rows"]
    return rows


def expected_marks(server: str, user: str, time_class: str, color: str) -> dict[str, int]:
    """Marks per chart for a filter choice, read straight from the summary rows: one dot per
    row, one line per time class, one bar segment per (row, clock bucket)..."""

    def rows(name: str, tc: str | None, co: str | None) -> Rows:
        params = {k: v for k, v in (("time_class", tc), ("color", co)) if v is not None}
        return _summary(server, user, name, **params)

    narrow_tc = None if time_class == "all" else time_class
    narrow_co = None if color == "all" else color
    history = rows("rating_history", narrow_tc, "all")
    buckets = ("le_3", "3_10", "10_25", "25_50", "ge_50")
    clock = [r for r in rows("time_management", time_class, color) if r["phase"] != "all"]
    family = [
        r
        for r in rows("openings", time_class, color)
        if r["eco"] == "all" and r["opening_variation"] == "all" and r["opening_family"] != "all"
    ]
    return {
        "rating_history": len(
            {r["time_class"] for r in history if r["time_class"] != "all" and r["rating_close"]}
        ),
        "results": sum(r["residual"] is not None for r in rows("results", narrow_tc, narrow_co)),
        "openings": min(20, sum(r["residual"] is not None for r in family)),
        "opening_tree": min(
            15,
            sum(
                r["color"] != "all" and (r["left_main_line_here"] or 0) > 0
                for r in rows("opening_tree", "all", narrow_co)
            ),
        ),
        "time_of_day": sum(
            r["zone"] == "local" and (r["weekday"], r["hour"]) != ("all", "all")
            for r in rows("time_of_day", time_class, "all")
        ),
        "opponent_strength": sum(
            r["scheme"] == "bin50" and r["score"] is not None
            for r in rows("opponent_strength", time_class, color)
        ),
        "terminations": sum(
            r["opening_family"] == "all" and r["games"] > 0
            for r in rows("terminations", time_class, color)
        ),
        "tilt": sum(
            r["kind"] in ("result", "loss_streak", "minutes_since_last") and r["score"] is not None
            for r in rows("tilt", time_class, color)
        ),
        "time_management": sum(r[f"share_clock_{b}"] is not None for r in clock for b in buckets),
        "sessions": sum(
            r["game_index"] != "all" and r["score"] is not None
            for r in rows("sessions", time_class, color)
        ),
        "castling": sum(
            r["opponent_castling"] == "all" and r["my_castling"] != "all" and r["share"] is not None
            for r in rows("castling", time_class, color)
        ),
        "material": sum(r["rate"] is not None for r in rows("material", time_class, color)),
        "accuracy": sum(
            r["month"] != "all" and r["result"] == "all" and r["mean_accuracy"] is not None
            for r in rows("accuracy", time_class, "all")
        ),
    }


def drawn_marks(page: Any) -> dict[str, int]:
    counts: dict[str, int] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("figure.chart:not(.engine)")]
          .map((f) => [
            f.id.replace("chart-", ""),
            [...f.querySelectorAll("svg g.marks")].reduce((n, g) => n + g.children.length, 0),
        ]))"""
    )
    return counts


def table_rows(page: Any, chart: str) -> list[list[str]]:
    """The chart's text alternative: its table, opened with the toggle."""
    figure = page.locator(f"#chart-{chart}")
    toggle = figure.locator("button.toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    cells: list[list[str]] = figure.locator("table tbody tr").evaluate_all(
        "(trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent))"
    )
    return cells


# -- tests ----------------------------------------------------------------------------------------


def test_page_loads_without_console_errors_and_draws_the_marks_the_rows_imply(
    open_page: Callable[..., Opened], server: str
) -> None:
    opened = open_page(f"/players/{REAL_PLAYER}")
    opened.drawn()
    assert opened.errors == []
    marks = drawn_marks(opened.page)
    expected = expected_marks(server, REAL_PLAYER, "all", "all")
    assert marks == expected
    assert all(count > 0 for count in expected.values())  # every chart has something to draw
    profile = api(server, f"/v1/players/{REAL_PLAYER}")
    assert f"{profile['game_count']} games analysed" in opened.page.inner_text("#meta")
    # every chart states its sample size and links to its definition with its version
    for name in expected:
        figure = opened.page.locator(f"#chart-{name}")
        assert figure.locator(".sample").inner_text().strip()
        body = api(server, f"/v1/players/{REAL_PLAYER}/summaries/{name}")
        definition = figure.locator("details.def")
        assert f"{name} v{body['version']}" in definition.locator("summary").inner_text()
        assert definition.locator("p").first.text_content() == body["definition"]


def test_low_sample_cells_are_grey(open_page: Callable[..., Opened], server: str) -> None:
    opened = open_page(f"/players/{REAL_PLAYER}")
    opened.drawn()
    rows = _summary(server, REAL_PLAYER, "results")
    fills = opened.page.locator("#chart-results svg g.marks circle").evaluate_all(
        "(cs) => cs.map((c) => c.getAttribute('fill'))"
    )
    assert len(fills) == len(rows)
    low = sum(bool(r["low_sample"]) for r in rows)
    assert 0 < low < len(rows)  # both kinds exist, so the check can fail
    assert fills.count("#c4c4c4") == low


def test_filters_change_every_chart_to_what_the_api_returns(
    open_page: Callable[..., Opened], server: str
) -> None:
    opened = open_page(f"/players/{REAL_PLAYER}")
    opened.drawn()
    page = opened.page
    # keyboard only: arrows move within a radio group, as in any form
    page.focus("#f-time_class-all")
    page.keyboard.press("ArrowRight")  # bullet
    page.keyboard.press("ArrowRight")  # blitz
    page.focus("#f-color-all")
    page.keyboard.press("ArrowLeft")  # wraps to black
    page.wait_for_function("new URL(location.href).searchParams.get('color') === 'black'")
    opened.drawn()
    assert page.is_checked("#f-time_class-blitz")
    assert page.is_checked("#f-color-black")
    assert drawn_marks(page) == expected_marks(server, REAL_PLAYER, "blitz", "black")

    results = _summary(server, REAL_PLAYER, "results", time_class="blitz", color="black")
    shown = table_rows(page, "results")
    assert [(r[0], r[1], int(r[2])) for r in shown] == [
        (r["time_class"], r["color"], r["games"]) for r in results
    ]
    terminations = _summary(server, REAL_PLAYER, "terminations", time_class="blitz", color="black")
    group = next(r["group_games"] for r in terminations if r["opening_family"] == "all")
    assert page.locator("#chart-terminations .sample").inner_text() == f"{group:,} games"
    assert opened.errors == []


def test_what_to_work_on_lists_the_slices_an_independent_computation_picks(
    open_page: Callable[..., Opened], server: str
) -> None:
    results = _summary(server, REAL_PLAYER, "results")
    costs = sorted(
        (r["residual"] * r["games_with_ratings"], r["time_class"], r["color"], r["games"])
        for r in results
        if "all" not in (r["time_class"], r["color"]) and r["residual"] is not None
    )
    wanted = [c for c in costs if c[0] < 0][:3]
    assert len(wanted) == 3
    opened = open_page(f"/players/{REAL_PLAYER}")
    page = opened.page
    page.wait_for_selector("#focus ol li")
    items = page.locator("#focus ol li")
    assert items.count() == 3
    focus = api(server, f"/v1/players/{REAL_PLAYER}/focus")["items"]
    for i, (_, time_class, color, games) in enumerate(wanted):
        item = items.nth(i)
        text = item.locator("p").first.inner_text()
        assert text.startswith(f"As {color.capitalize()} in {time_class} you score ")
        assert text == focus[i]["text"]
        links = item.locator("a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
        assert links == [
            f"/players/{REAL_PLAYER}?time_class={time_class}&color={color}#chart-results",
            f"/v1/players/{REAL_PLAYER}/games?time_class={time_class}&color={color}",
        ]
        assert api(server, links[1])["total"] == games  # the games behind the slice


def test_never_published_and_invalid_usernames_get_their_pages(
    open_page: Callable[..., Opened],
) -> None:
    missing = open_page("/players/nobody_here")
    assert missing.response.status == 404  # type: ignore[attr-defined]
    text = missing.page.inner_text("main")
    assert "nobody_here has not been analysed yet" in text
    assert "chess-patterns refresh nobody_here" in text
    invalid = open_page("/players/not.a.name")
    assert invalid.response.status == 422  # type: ignore[attr-defined]
    assert "Not a Chess.com username" in invalid.page.inner_text("main")
    # the browser logs the document's own status; nothing else may fail
    assert [e.split(" (")[0] for e in missing.errors] == [f"{STATUS_LINE} 404"]
    assert [e.split(" (")[0] for e in invalid.errors] == [f"{STATUS_LINE} 422"]


def test_phone_width_has_no_sideways_scroll_and_screenshots(
    open_page: Callable[..., Opened],
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for user in (REAL_PLAYER, SECOND_PLAYER):
        for width, kind in ((1280, "desktop"), (390, "phone")):
            opened = open_page(f"/players/{user}", width=width)
            opened.drawn()
            assert opened.errors == []
            scroll = opened.page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, (user, kind, scroll)
            opened.page.screenshot(path=str(SCREENSHOTS / f"{user}-{kind}.png"), full_page=True)
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 4


def test_page_assets_fit_the_budget_and_are_served_compressed(server: str) -> None:
    """The page's JavaScript and CSS, vendored library included, within 200 kB compressed."""
    from api.page import ASSETS

    total = 0
    for name in ASSETS:
        response = httpx.get(
            f"{server}/static/page/{name}", headers={"Accept-Encoding": "gzip"}, timeout=30
        )
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        total += int(response.headers["content-length"])  # the bytes sent, compressed
    assert total <= 200_000, total
    assert httpx.get(f"{server}/static/page/../app.py", timeout=30).status_code == 404


def test_never_published_page_offers_the_analysis_route_and_follows_it(
    browser: Any, tmp_path: Path, fixtures_dir: Path
) -> None:
    """The 404 page asks POST /v1/analyses for the player, shows its state while a worker (as
    `chess-patterns serve` runs one) refreshes it from the mirror, and loads the player."""
    from adapters.migrations import upgrade_schema
    from api.app import create_app
    from mirror import running_mirror
    from pipeline.analyses import run_worker

    url = f"sqlite:///{tmp_path / 'serving.sqlite'}"
    upgrade_schema(Database.from_url(url))
    with running_mirror(fixtures_dir) as mirror:
        settings = make_settings(
            url,
            tmp_path,
            api_rate_limit_per_minute=1_000_000,
            chesscom_base_url=mirror.base_url,
            chesscom_user_agent="chess-patterns-tests (ci@example.invalid)",
            analysis_worker_poll_seconds=0.1,
        )
        app = create_app(settings)
        stop = threading.Event()
        worker = threading.Thread(target=run_worker, args=(settings,), kwargs={"stop": stop})
        worker.start()
        try:
            with serving(app) as base:
                context = browser.new_context()
                page = context.new_page()
                opened = Opened(page)
                response = page.goto(f"{base}/players/{SECOND_PLAYER}")
                assert response.status == 404
                page.click("#analyse button")
                opened.drawn()  # succeeded: the page reloaded and drew the published player
                assert SECOND_PLAYER in page.inner_text("h1")
                context.close()
        finally:
            stop.set()
            worker.join(60)
    asked = [r.path for r in mirror.log() if SECOND_PLAYER in r.path]
    assert asked[0] == f"/pub/player/{SECOND_PLAYER}/games/archives"
