"""Cold start (issue 16): a new process, compile cache warm, imports the engine and runs its
first race (8 optimizers × 1,000 steps), as a fresh gunicorn worker does.

Run by ``make bench`` (or ``python -m bench.coldstart``); rewrites the coldstart section of
bench/results.md. Each timed process is paired with a reference process started right after
it: one that imports NumPy and numba only (what any numba engine loads before its first
kernel), timed the same way from inside the process. The pairs interleave, so the machine's
load stretches both alike; the table gives both medians and their ratio. What compiling
costs with an empty cache is the engine section's (bench/engine.py).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report import RESULTS, load_note, stamp, write_section

REPEATS = 9
ROOT = Path(__file__).resolve().parent.parent
PYCACHE = str(Path(tempfile.gettempdir()) / "optrace-bench-pycache")
EIGHT = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam"]
RATE = {"sgd": 2e-4, "momentum": 2e-4, "nesterov": 2e-4, "adagrad": 0.3}
FIRST = {
    "surface": {"name": "rosenbrock"},
    "steps": 1000,
    "racers": [{"optimizer": n, "lr": RATE.get(n, 5e-3)} for n in EIGHT],
}
FIRST_RACE = f"""
import time
t = time.perf_counter()
from optimizers import run_race
run_race({FIRST!r})
print(time.perf_counter() - t)
"""
LIBRARIES = """
import time
t = time.perf_counter()
import numpy, numba
print(time.perf_counter() - t)
"""
WARM = """
import time
t = time.perf_counter()
from optimizers.warm import warm
warm()
print(time.perf_counter() - t)
"""


def subprocess_seconds(code: str, env: dict[str, str] | None = None) -> float:
    """Seconds a new process reports. Its Python bytecode comes from ``PYCACHE`` (written by
    the first process, read by the next), as an installed worker's does, whatever the
    calling shell's PYTHONDONTWRITEBYTECODE says."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "PYTHONPYCACHEPREFIX": PYCACHE, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    load_before = os.getloadavg()[0]
    subprocess_seconds(WARM)  # the compile cache warm, as `make run` leaves it
    subprocess_seconds(FIRST_RACE)  # writes the bytecode the timed processes read
    subprocess_seconds(LIBRARIES)
    ours, reference = [], []
    for _ in range(REPEATS):
        ours.append(subprocess_seconds(FIRST_RACE))
        reference.append(subprocess_seconds(LIBRARIES))
    mine, theirs = statistics.median(ours), statistics.median(reference)
    met = "met" if mine <= 0.5 else "missed"
    print(f"cold start: first race {mine:.3f} s; NumPy and numba alone {theirs:.3f} s")
    lines = [
        "## Cold start",
        "",
        f"{stamp()}. {load_note(load_before)}",
        f"Medians of {REPEATS} new processes each, interleaved: ours imports the engine and runs",
        "its first race (8 optimizers × 1,000 steps) with the compile cache warm; the reference",
        "imports NumPy and numba only. Timed inside each process (bytecode cached, as an",
        "installed worker's).",
        "",
        "| case | ours (s) | reference | ref. (s) | ours / ref. | target | |",
        "|---|---:|---|---:|---:|---|---|",
        f"| first race of a new process | {mine:.3f} | NumPy + numba imported | {theirs:.3f} | "
        f"{mine / theirs:.2f} | ≤ 0.5 s | {met} |",
        "",
        *HISTORY,
    ]
    write_section("coldstart", lines)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()


# What the figure rests on; the machine's two speeds (bench/results.md's engine section) move
# the reference from ~0.25 to ~0.39 s, and ours with it: the ratio is what compares.
HISTORY = [
    "Session 15 measured 0.658 s against a reference of 0.390 s (ratio 1.69), the machine in",
    "its slow mode. Session 16: a loop's cache entry keeps its machine code only, not the",
    "bitcode numba keeps for linking it into a caller (nothing links a loop; reading that back",
    "was half of each loop's ~15 ms load), numba's cache object is made when a function first",
    "compiles or loads, not for each of the ~280 defined at import, and a record is typed once",
    "for every loop. The ratio went from 1.69 to the one above; in the machine's slow mode",
    "(reference ~0.39 s) that ratio gives ~0.62 s, over the target.",
]
