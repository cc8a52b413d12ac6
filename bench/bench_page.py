"""Time to the first chart of the player page, measured in the browser, beside a blank page load.

Run:  uv run python bench/bench_page.py [--rounds 5] [--database-url sqlite:///...]
Needs Debian's Chromium (/usr/bin/chromium). Without --database-url it publishes the largest
fixture player (biskupstunga, 18,216 real games) into a temporary DATA_DIR the way a user does
(`chess-patterns import` of its PGN files, then `refresh --offline`: a few minutes), then serves
it with `chess-patterns serve` and, for each round, in a fresh browser context (no HTTP cache):

  blank   the server's plain HTML page (the never-published page: one small document and its
          CSS): navigation start to the load event (the baseline)
  page    /players/biskupstunga: navigation start to the `first-chart` performance mark (the
          first chart drawn), and to `all-charts` (every chart drawn)

Round 1 meets a server whose caches are cold; the median is over the other rounds. Target
(issue 13): first chart within 1 s of navigation on this machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(
    os.environ.get("CHESS_FIXTURES_DIR", REPO.parent / "shared" / "fixtures" / "chesscom")
)
PLAYER = "biskupstunga"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CLI = [sys.executable, "-m", "cli"]


def publish(data_dir: Path) -> str:
    env = {**os.environ, "DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    pgns = sorted(str(p) for p in (FIXTURES / PLAYER / "pgn").glob("*.pgn"))
    for args in (["import", PLAYER, *pgns], ["refresh", PLAYER, "--offline"]):
        subprocess.run([*CLI, *args], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return f"sqlite:///{data_dir / 'patterns.sqlite'}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "API_RATE_LIMIT_PER_MINUTE": "1000000",
    }
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], cwd=REPO, env=env, stdout=subprocess.DEVNULL
    )
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the API did not start")


def measure(browser: Any, url: str, mark: str | None) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    if mark is None:
        page.wait_for_load_state("load")
        load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        figures = {"load": float(load)}
    else:
        page.wait_for_selector("#app[data-drawn=true]", timeout=120_000)
        marks = page.evaluate(
            "Object.fromEntries(performance.getEntriesByType('mark')"
            ".map((m) => [m.name, m.startTime]))"
        )
        figures = {"first": float(marks["first-chart"]), "all": float(marks["all-charts"])}
    context.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="a database where biskupstunga is published")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:
            url = args.database_url
        else:
            started = time.perf_counter()
            url = publish(Path(tmp))
            print(f"published {PLAYER} in {time.perf_counter() - started:.0f} s")
        port = free_port()
        server = serve(url, port)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                blanks, firsts, alls = [], [], []
                for round_ in range(1, args.rounds + 1):
                    blank = measure(browser, f"{base}/players/never_published_here", None)
                    page = measure(browser, f"{base}/players/{PLAYER}", "first-chart")
                    print(
                        f"round {round_}: blank page load {blank['load']:6.0f} ms | "
                        f"first chart {page['first']:6.0f} ms | all charts {page['all']:6.0f} ms"
                    )
                    if round_ > 1 or args.rounds == 1:
                        blanks.append(blank["load"])
                        firsts.append(page["first"])
                        alls.append(page["all"])
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    blank_ms, first_ms, all_ms = (statistics.median(v) for v in (blanks, firsts, alls))
    print(
        f"median (warm server): blank {blank_ms:.0f} ms, first chart {first_ms:.0f} ms "
        f"({first_ms / blank_ms:.1f}x blank), all charts {all_ms:.0f} ms "
        f"({all_ms / blank_ms:.1f}x blank); target: first chart <= 1000 ms"
    )


if __name__ == "__main__":
    main()
