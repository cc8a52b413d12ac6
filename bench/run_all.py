"""Every benchmark in one command: a JSON report, a readable table and a plot of time and memory.

Run from the repository root:

    uv run python bench/run_all.py [--quick] [--sizes 5000 20000 50000 200000] [--out data/bench]

Writes OUT/report.json (machine-readable), OUT/report.txt (the table printed at the end) and
OUT/backfill.png (time and peak memory against games; the report links it). Each figure stands
beside its baseline measured in the same run, as a ratio and in absolute numbers, with the
machine's CPU count and load:

- parse: the full extraction (`parse_month`) of biskupstunga's real games vs a bare
  `chess.pgn.read_game` loop over the same PGNs (bench/bench_parse.py);
- backfill at each size: a corpus of real games (bench/corpus.py) served by the mirror over
  loopback HTTP into PostgreSQL, wall time and peak RSS per stage (ingest, parse, summaries,
  publish) and per process (pool workers included), then a no-op refresh; baseline: the bare
  single-process read of the same PGNs (bench/bench_backfill.py);
- API load: the warm and cold API, a bare FastAPI route and a raw ASGI app answering the same
  bytes (uvicorn's floor), one worker each, with wrk (bench/bench_api.py).

--quick (a few hundred games, about a minute on a shared 2-core machine) is the CI smoke test
(tests/bench/test_bench_smoke.py); it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import bench_api, bench_backfill, bench_parse  # noqa: E402
from bench.corpus import source_games  # noqa: E402

REPORT_VERSION = 1
MEMORY_TARGET_MB = 512
WALL_TARGET_RATIO = 0.5


def _section(name: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    try:
        result = work()
        result["status"] = "ok"
    except SystemExit as error:
        # A missing tool (wrk) or service: the section is reported as skipped, with why.
        result = {"status": "skipped", "reason": str(error)}
    except Exception as error:
        traceback.print_exc()
        result = {"status": "error", "reason": f"{type(error).__name__}: {error}"}
    result["section_s"] = round(time.perf_counter() - started, 1)
    return result


def parse_section(limit: int | None) -> dict[str, Any]:
    x = bench_parse.bench_extraction(limit)
    return {
        **x,
        "ratio_full_to_bare": x["full_games_per_s"] / x["bare_games_per_s"],
        "baseline": "bare chess.pgn.read_game loop over the same PGN strings, same run",
    }


def backfill_section(
    sizes: list[int], months: int, workers: int, baseline_cap: int | None
) -> dict[str, Any]:
    sources = source_games()
    runs = []
    for size in sizes:
        print(f"   backfill of {size:,} games", flush=True)
        run = bench_backfill.bench_size(
            size,
            min(months, size),
            workers=workers,
            baseline_cap=baseline_cap,
            sources=sources,
        )
        print(bench_backfill.table([run]), flush=True)
        runs.append(run)
    return {"runs": runs, "baseline": "bare single-process chess.pgn.read_game loop, same PGNs"}


def api_section(quick: bool) -> dict[str, Any]:
    if quick:
        return bench_api.run(duration=1, rounds=1, cold_start=False)
    return bench_api.run()


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 14 beside the figure measured (met: true/false)."""
    out: list[dict[str, Any]] = []
    for run in report["backfill"].get("runs", []):
        games = run["games"]
        b = run["backfill"]
        out.append(
            {
                "what": f"backfill {games:,} games: peak RSS of every process (MB)",
                "figure": b["process_peak_mb"],
                "target": f"<= {MEMORY_TARGET_MB}",
                "met": b["process_peak_mb"] <= MEMORY_TARGET_MB,
            }
        )
        out.append(
            {
                "what": f"backfill {games:,} games: wall / bare read",
                "figure": round(run["ratio_backfill_to_baseline"], 3),
                "target": f"<= {WALL_TARGET_RATIO}",
                "met": run["ratio_backfill_to_baseline"] <= WALL_TARGET_RATIO,
            }
        )
    api = report["api"]
    if api.get("status") == "ok":
        out.append(
            {
                "what": "warm API / raw ASGI floor, 32 connections, one worker",
                "figure": round(api["warm_to_floor_32"], 3),
                "target": ">= 0.8",
                "met": api["met"]["warm_to_floor_32"],
            }
        )
        out.append(
            {
                "what": "warm API p99 at 4 connections (ms)",
                "figure": round(api["warm_p99_ms_4"], 2),
                "target": "<= 5",
                "met": api["met"]["warm_p99_ms_4"],
            }
        )
    return out


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    """Time and peak memory against games: growth should be a line in time, flat in memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    games = [r["games"] for r in runs]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.plot(games, [r["backfill"]["wall_s"] for r in runs], "o-", label="backfill (all stages)")
    for stage in ("ingest", "parse", "summaries", "publish"):
        values = [r["backfill"]["stages"].get(stage, {}).get("wall_s", 0.0) for r in runs]
        left.plot(games, values, ".--", label=stage)
    left.plot(games, [r["baseline"]["seconds"] for r in runs], "k^-", label="bare read (baseline)")
    left.plot(games, [r["noop"]["wall_s"] for r in runs], "x:", label="no-op refresh")
    left.set(xlabel="games", ylabel="seconds", title="wall time")
    left.legend(fontsize=8)
    right.plot(
        games, [r["backfill"]["tree_peak_mb"] for r in runs], "o-", label="process tree (sum)"
    )
    right.plot(
        games, [r["backfill"]["process_peak_mb"] for r in runs], "s-", label="largest process"
    )
    for stage in ("parse", "summaries", "publish"):
        values = [r["backfill"]["stages"].get(stage, {}).get("process_peak_mb", 0.0) for r in runs]
        right.plot(games, values, ".--", label=f"{stage}: largest process")
    right.axhline(MEMORY_TARGET_MB, color="red", linestyle=":", label=f"{MEMORY_TARGET_MB} MB")
    right.set(xlabel="games", ylabel="MB (peak RSS)", title="peak memory", ylim=(0, None))
    right.legend(fontsize=8)
    fig.suptitle(f"backfill from the mirror into PostgreSQL, {os.cpu_count()} CPUs")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def text_table(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"benchmark report {report['generated_at']} ({'quick' if report['quick'] else 'full'})",
        f"CPUs: {m['cpu_count']}, load average {m['load_before']:.1f} before, "
        f"{m['load_after']:.1f} after; python {m['python']}",
        "",
    ]
    parse = report["parse"]
    lines.append(f"[parse] {parse['status']}")
    if parse["status"] == "ok":
        lines.append(
            f"  full extraction {parse['full_games_per_s']:,.0f} games/s "
            f"({parse['full_plies_per_s']:,.0f} plies/s) over {parse['games']:,} real games; "
            f"bare read {parse['bare_games_per_s']:,.0f} games/s; "
            f"ratio {parse['ratio_full_to_bare']:.2f}"
        )
    else:
        lines.append(f"  {parse.get('reason')}")
    backfill = report["backfill"]
    lines += ["", f"[backfill, summaries, publish, no-op refresh] {backfill['status']}"]
    if backfill["status"] == "ok":
        lines.append(bench_backfill.table(backfill["runs"]))
    else:
        lines.append(f"  {backfill.get('reason')}")
    api = report["api"]
    lines += ["", f"[API] {api['status']}"]
    lines.append(bench_api.table(api) if api["status"] == "ok" else f"  {api.get('reason')}")
    lines += ["", f"[engine] {report['engine']['status']}: {report['engine']['reason']}", ""]
    lines.append("[targets]")
    for t in report["targets"]:
        lines.append(
            f"  {'met ' if t['met'] else 'MISS'} {t['what']}: {t['figure']} (target {t['target']})"
        )
    if report.get("plot"):
        lines.append(f"\nplot: {report['plot']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred games: a smoke test")
    parser.add_argument("--sizes", type=int, nargs="+", help="backfill sizes (games)")
    parser.add_argument("--months", type=int, default=96, help="months the corpus spans")
    parser.add_argument("--workers", type=int, default=2, help="parse workers of the refresh")
    parser.add_argument(
        "--baseline-cap",
        type=int,
        default=None,
        help="bare-read baseline over at most N games, its rate scaled to the size",
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=["parse", "backfill", "api"])
    parser.add_argument("--out", type=Path, default=REPO / "data" / "bench")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([300] if args.quick else [5_000, 20_000, 50_000, 200_000])
    months = 6 if args.quick else args.months
    args.out.mkdir(parents=True, exist_ok=True)

    def skipped(name: str) -> dict[str, Any]:
        return {"status": "skipped", "reason": "--skip"}

    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_before": os.getloadavg()[0],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    report["parse"] = (
        skipped("parse")
        if "parse" in args.skip
        else _section("parse", lambda: parse_section(300 if args.quick else None))
    )
    report["backfill"] = (
        skipped("backfill")
        if "backfill" in args.skip
        else _section(
            "backfill", lambda: backfill_section(sizes, months, args.workers, args.baseline_cap)
        )
    )
    report["api"] = (
        skipped("api") if "api" in args.skip else _section("api", lambda: api_section(args.quick))
    )
    report["engine"] = {
        "status": "not applicable",
        "reason": "the pipeline has no engine stage to measure",
    }
    report["machine"]["load_after"] = os.getloadavg()[0]
    report["targets"] = targets(report)
    report["plot"] = None
    runs = report["backfill"].get("runs", [])
    if runs:
        png = args.out / "backfill.png"
        plot(runs, png)
        report["plot"] = png.name
    (args.out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    text = text_table(report)
    (args.out / "report.txt").write_text(text + "\n")
    print()
    print(text)
    print(f"\nwritten: {args.out / 'report.json'}, {args.out / 'report.txt'}")
    failed = [k for k in ("parse", "backfill", "api") if report[k]["status"] == "error"]
    if shutil.which("wrk") is None and report["api"]["status"] == "skipped":
        print("note: the API section needs wrk (apt-get install -y wrk)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
