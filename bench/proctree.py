"""Peak resident memory of a process tree (a stage and its pool workers), sampled from /proc.

Every `interval` seconds each process under the root reports its peak RSS since the previous
sample (VmHWM, then reset through /proc/<pid>/clear_refs "5"), so a spike shorter than the
interval still counts. Kept per sample: the tree's sum and each process' value, with a
time stamp (time.monotonic, the same clock in every process on Linux) so that samples can be
attributed to the stage a child announced. A sum of RSS counts shared library pages once per
process and adds peaks of one window that need not coincide, so it errs high, never low.
getrusage's ru_maxrss is not used: Linux carries the forking parent's RSS over exec into the
child's ru_maxrss, so it reports the benchmark script's size for a small child.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's children file; a /proc scan if unavailable)."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(c) for c in handle.read().split())
        return found
    except FileNotFoundError:
        pass
    except OSError:
        return found
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    # Field 4 is the parent pid; the command name (field 2) may contain spaces.
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _peak_and_reset(pid: int) -> int:
    """Bytes: the process' peak RSS since the previous call (VmHWM, then reset), or its current
    RSS when the reset is not allowed."""
    with open(f"/proc/{pid}/status") as handle:
        fields = dict(line.split(":", 1) for line in handle if ":" in line)
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return int(fields["VmRSS"].split()[0]) * 1024
    return int(fields["VmHWM"].split()[0]) * 1024


def describe(pid: int) -> str:
    """A short label for a process: what its command line runs."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = [a.decode(errors="replace") for a in handle.read().split(b"\0") if a]
    except OSError:
        return "?"
    text = " ".join(argv)
    if "multiprocessing.resource_tracker" in text:
        return "resource tracker"
    if "multiprocessing.spawn" in text or "spawn_main" in text:
        return "pool worker"
    if len(argv) >= 2 and argv[1] == "-c":
        return "python -c (stage process)"
    return " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(argv[:3]))[:60]


@dataclass
class Sample:
    at: float  # time.monotonic() when taken
    total: int  # bytes, summed over the tree
    per_pid: dict[int, int]  # bytes, each process' peak over the window


@dataclass
class TreeSampler:
    """Samples the tree under `pid` until stopped; use as a context manager."""

    pid: int
    interval: float = 0.05
    samples: list[Sample] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _tick(self) -> None:
        per_pid: dict[int, int] = {}
        todo, seen = [self.pid], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                per_pid[pid] = _peak_and_reset(pid)
            except (OSError, KeyError, IndexError, ValueError):
                continue  # exited between the listing and the read
            if pid not in self.labels:
                self.labels[pid] = describe(pid)
            todo.extend(_children(pid))
        self.samples.append(Sample(time.monotonic(), sum(per_pid.values()), per_pid))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._tick()
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    # -- reading the samples ------------------------------------------------------------------
    def window(self, start: float = float("-inf"), end: float = float("inf")) -> list[Sample]:
        return [s for s in self.samples if start <= s.at <= end]

    @staticmethod
    def peaks(samples: list[Sample]) -> dict[str, float]:
        """MB: the tree's largest sum, the largest single process, and the processes seen."""
        tree = max((s.total for s in samples), default=0)
        single = max((v for s in samples for v in s.per_pid.values()), default=0)
        alive = max((len(s.per_pid) for s in samples), default=0)
        return {"tree_peak_mb": tree / 2**20, "process_peak_mb": single / 2**20, "processes": alive}

    def per_process(self, samples: list[Sample]) -> list[dict[str, object]]:
        """Each process' peak (MB) over the samples, largest first, with its label."""
        best: dict[int, int] = {}
        for s in samples:
            for pid, value in s.per_pid.items():
                best[pid] = max(best.get(pid, 0), value)
        rows: list[dict[str, object]] = [
            {"pid": pid, "what": self.labels.get(pid, "?"), "peak_mb": round(v / 2**20, 1)}
            for pid, v in best.items()
        ]
        return sorted(rows, key=lambda r: -float(str(r["peak_mb"])))
