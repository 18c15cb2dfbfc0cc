"""Engine benchmarks (issue 16): the compiled engine beside torch.optim doing the same work, in
one run.

The first edition's NumPy engine, timed beside them until issue 26, left the product tree: the
git tag ``first-edition-numpy-engine`` holds it (bench/first_edition.md says how to run it),
and its last measured times are quoted in the section, marked as recorded.

Run with ``make bench`` (or ``python -m bench.engine``); prints a table and rewrites the
engine section of bench/results.md. Absolute times vary on these shared machines; the ratios
measured in the same run are what the targets are about.

* times: medians of ``REPEATS`` runs of ours, then of torch.optim's, in the same run
  (``medians`` says why not interleaved). torch.optim runs one optimizer per run (float64,
  one thread, the analytic Rosenbrock gradient in torch), as a training loop would. For the
  batch cases (hundreds of runs) torch is timed on one run per racer and multiplied by the
  runs per racer: its cost is linear in runs (every run is its own optimizer), and timing it
  whole would take minutes.
* peak memory: tracemalloc's peak (NumPy reports its buffers to it) while the engine answers
  a maximum-budget sweep and fan request (3,000,000 run-steps, the validator's bound).
* compilation is bench/compile.py's section; a new process's first race with the cache warm
  is bench/coldstart.py's.
"""

from __future__ import annotations

import os
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import torch

from bench.report import RESULTS, stamp, write_section
from optimizers import run_batch, run_race
from optimizers.config import RateGrid
from optimizers.engine import Record
from optimizers.fan import fan_seeds, noisy_fans
from optimizers.starts import start_points
from optimizers.sweep import sweep
from optimizers.validate import validate_race
from surfaces import get_surface
from tests.torch_reference import build_optimizer

REPEATS = 7

# The first edition's NumPy engine as last measured beside ours (bench/first_edition.md):
# not measured again, since the engine left the product tree.
FIRST_EDITION_MEASURED = [
    "The first edition's NumPy engine is no longer timed: it left the product tree (git tag",
    "`first-edition-numpy-engine`, bench/first_edition.md). Recorded, not measured this run: its",
    "last measurement, 2026-11-27, in the same run as ours at 0.56, 13.58, 9.43 and 2.50 ms, was",
    "race 36.9 ms, sweep 152.0 ms, fan 113.5 ms and many starts 20.5 ms (66×, 11×, 12× and 8×",
    "ours then), and a peak memory of 158.9 MB for the sweep and 480.3 MB for the fan below",
    "(ours 0.4 and 22.9 MB then).",
]

EIGHT = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam"]
TEN = [*EIGHT[:5], "adadelta", "adam", "adamw", "adamax", "nadam"]
RATE = {"sgd": 2e-4, "momentum": 2e-4, "nesterov": 2e-4, "adagrad": 0.3, "adadelta": 1.0}
RATES = np.logspace(-5, 1, 48)


def race(names: list[str], steps: int, std: float = 0.0) -> dict:
    racers = [{"optimizer": n, "lr": RATE.get(n, 5e-3)} for n in names]
    return {
        "surface": {"name": "rosenbrock"},
        "steps": steps,
        "noise": {"std": std, "seed": 1},
        "racers": racers,
    }


def rosenbrock_grad(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    r = y - x * x
    return torch.stack([-2 * (1 - x) - 400 * x * r, 200 * r])


def torch_runs(config: dict) -> None:
    """Every racer as its own torch optimizer, stepped in one loop."""
    cfg = validate_race(config)
    runs = []
    for racer in cfg.racers:
        param = torch.nn.Parameter(torch.tensor(cfg.start, dtype=torch.float64))
        runs.append((param, build_optimizer(torch, racer, param)))
    with torch.no_grad():
        for _ in range(cfg.steps):
            for param, opt in runs:
                param.grad = rosenbrock_grad(param)
                opt.step()


def medians(calls: list[Callable[[], object]]) -> list[float]:
    """Median seconds of each call: each warmed once, then timed ``REPEATS`` times in a row
    (one after another in the same run). Interleaving them would time the compiled loop
    right after torch has filled the caches and the allocator with its own objects, which
    more than doubles a 2 ms call and says nothing about either."""
    out = []
    for call in calls:
        call()  # warm caches, lazy imports and the compiled kernels
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        out.append(statistics.median(times))
    return out


def peak_mb(call: Callable[[], object]) -> float:
    call()  # not the compilation's memory
    tracemalloc.start()
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    load_before = os.getloadavg()[0]
    rows: list[tuple[str, float, float, str, bool | None]] = []

    def row(name: str, ours: float, ref: float, target: str, met: bool | None):
        rows.append((name, ours * 1e3, ref * 1e3, target, met))
        print(f"{name}: ours {ours * 1e3:.2f} ms, torch.optim {ref * 1e3:.1f} ms")

    # (a) race: 8 optimizers × 1,000 steps.
    config = validate_race(race(EIGHT, 1000))
    ours, ref = medians([lambda: run_race(config), lambda: torch_runs(race(EIGHT, 1000))])
    row("race: 8 optimizers × 1,000 steps", ours, ref, "torch ≥ 100× ours", ref / ours >= 100)

    # (b) sweep: 10 optimizers × 48 rates × 1,000 steps (outcomes only, as /api/sweep).
    config = validate_race(race(TEN, 1000))
    ours, one = medians(
        [
            lambda: run_batch(config, lrs=list(RATES), record=Record.OUTCOME),
            lambda: torch_runs(race(TEN, 1000)),
        ]
    )
    row("sweep: 10 optimizers × 48 rates × 1,000 steps", ours, one * len(RATES),
        "≤ 15 ms", ours * 1e3 <= 15)  # fmt: skip

    # (c) fan: 8 racers × 32 seeds × 1,000 steps: the engine's runs (what torch does too),
    # then the fan as served, with its summaries (median path, loss quartiles, copies).
    config = validate_race(race(EIGHT, 1000, std=0.5))
    seeds = fan_seeds(1, 32)
    ours, one, served = medians(
        [
            lambda: run_batch(config, seeds=seeds, record=Record.POINTS),
            lambda: torch_runs(race(EIGHT, 1000)),
            lambda: noisy_fans(config, 32),
        ]
    )
    row("fan: 8 racers × 32 seeds × 1,000 steps", ours, one * 32, "≤ 10 ms", ours * 1e3 <= 10)
    print(f"fan with its summaries (noisy_fans): {served * 1e3:.2f} ms")

    # (d) many starts: 64 × 1,000 (the engine's batch; the basin analysis is not engine).
    config = validate_race(race(["adam"], 1000))
    starts = start_points(get_surface("rosenbrock"), "grid", 64, 0)
    ours, one = medians(
        [lambda: run_batch(config, starts=starts), lambda: torch_runs(race(["adam"], 1000))]
    )
    row("many starts: 64 × 1,000 steps", ours, one * 64, "≤ 3 ms", ours * 1e3 <= 3)

    # Peak memory of maximum-budget requests (3,000,000 run-steps).
    big_sweep = validate_race(race(TEN[:6], 5000))  # 6 racers × (49 rates + own) × 5,000
    grid = RateGrid(count=49)
    big_fan = validate_race(race(EIGHT[:2] + ["adam"] * 7, 5000, std=0.5))  # 9 × 64 × 5,000
    memory = [
        ("sweep, 6 racers × 50 rates × 5,000 steps", lambda: sweep(big_sweep, grid)),
        ("fan, 9 racers × 64 seeds × 5,000 steps", lambda: noisy_fans(big_fan, 64)),
    ]
    mem_rows = []
    for name, ours_call in memory:
        mine = peak_mb(ours_call)
        mem_rows.append((name, mine, mine <= 50))
        print(f"peak memory, {name}: ours {mine:.1f} MB")

    load_after = os.getloadavg()[0]
    lines = [
        "## Engine",
        "",
        f"{stamp()}, NumPy {np.__version__}, numba {__import__('numba').__version__}, "
        f"torch {torch.__version__}. Load average (1 min) {load_before:.1f} at the start and "
        f"{load_after:.1f} at the end (other processes on the same cores stretch every time "
        "here; the ratios in one run less).",
        f"Medians of {REPEATS} runs each of ours and of torch.optim (one optimizer per run,",
        "float64, one thread, analytic gradient), one after another in the same run",
        "(interleaved, a 2 ms call timed right after torch's takes twice as long). For the",
        "batches torch.optim is timed on one run per racer and multiplied by the runs per racer",
        "(linear: every run is its own optimizer). The sweep keeps outcomes only, as /api/sweep",
        "does; the fan is the engine's runs (points and losses kept); a fan as served also",
        "reduces them to its summaries (median path, loss quartiles, copies): `noisy_fans`",
        f"{served * 1e3:.2f} ms.",
        "",
        *FIRST_EDITION_MEASURED,
        "",
        "| case | ours (ms) | torch.optim (ms) | torch / ours | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name, mine, ref_ms, target, met in rows:
        verdict = "met" if met else "missed"
        lines.append(
            f"| {name} | {mine:.2f} | {ref_ms:.0f} | {ref_ms / mine:.0f}× | {target} | {verdict} |"
        )
    lines += [
        "",
        "Peak memory (tracemalloc) answering a maximum-budget request (3,000,000 run-steps):",
        "",
        "| request | ours (MB) | target | |",
        "|---|---:|---|---|",
    ]
    for name, mine, met in mem_rows:
        lines.append(f"| {name} | {mine:.1f} | ≤ 50 MB | {'met' if met else 'missed'} |")
    write_section("engine", lines)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
