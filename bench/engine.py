"""Engine benchmarks: medians of several runs, each beside torch.optim doing the same work.

Run with ``make bench``; prints a table and rewrites bench/results.md.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from bench.report import RESULTS, stamp, write_section
from optimizers import run_batch, run_race
from optimizers.validate import validate_race
from tests.torch_reference import build_optimizer

REPEATS = 7

EIGHT = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam"]
TEN = [*EIGHT[:5], "adadelta", "adam", "adamw", "adamax", "nadam"]
RATE = {"sgd": 2e-4, "momentum": 2e-4, "nesterov": 2e-4, "adagrad": 0.3, "adadelta": 1.0}


def race(names: list[str], steps: int) -> dict:
    racers = [{"optimizer": n, "lr": RATE.get(n, 5e-3)} for n in names]
    return {"surface": {"name": "rosenbrock"}, "steps": steps, "racers": racers}


def rosenbrock_grad(p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    r = y - x * x
    return torch.stack([-2 * (1 - x) - 400 * x * r, 200 * r])


def torch_runs(config: dict, lrs: np.ndarray | None = None) -> None:
    """Every racer (times every rate) as its own torch optimizer, stepped in one loop."""
    cfg = validate_race(config)
    runs = []
    for racer in cfg.racers:
        for lr in lrs if lrs is not None else [racer.lr]:
            param = torch.nn.Parameter(torch.tensor(cfg.start, dtype=torch.float64))
            runs.append((param, build_optimizer(torch, racer, param)))
            runs[-1][1].param_groups[0]["lr"] = float(lr)
    with torch.no_grad():
        for _ in range(cfg.steps):
            for param, opt in runs:
                param.grad = rosenbrock_grad(param)
                opt.step()


def measure(ours: Callable[[], object], theirs: Callable[[], object]) -> tuple[float, float]:
    """Median seconds of ours and of torch's, each repetition running both back to back."""
    ours(), theirs()  # warm caches and lazy imports
    mine, ref = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        ours()
        mine.append(time.perf_counter() - start)
        start = time.perf_counter()
        theirs()
        ref.append(time.perf_counter() - start)
    return statistics.median(mine), statistics.median(ref)


def main() -> None:
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    sweep_rates = np.logspace(-5, 1, 48)
    sweep_config = validate_race(race(TEN, 500))
    cases = [
        (
            "(a) race: 8 optimizers × 1,000 steps, rosenbrock",
            25.0,
            lambda: run_race(race(EIGHT, 1000)),
            lambda: torch_runs(race(EIGHT, 1000)),
        ),
        (
            "(b) one racer (adam) × 1,000 steps",
            None,
            lambda: run_race(race(["adam"], 1000)),
            lambda: torch_runs(race(["adam"], 1000)),
        ),
        (
            "(c) sweep: 10 optimizers × 48 rates × 500 steps",
            150.0,
            lambda: run_batch(sweep_config, lrs=sweep_rates),
            lambda: torch_runs(race(TEN, 500), sweep_rates),
        ),
    ]
    rows = []
    for name, target, ours, theirs in cases:
        mine, ref = measure(ours, theirs)
        verdict = "" if target is None else ("met" if mine * 1e3 <= target else "missed")
        rows.append((name, mine * 1e3, ref * 1e3, mine / ref, target, verdict))
        print(
            f"{name}: {mine * 1e3:.1f} ms (torch.optim {ref * 1e3:.1f} ms, ratio {mine / ref:.3f})"
        )

    lines = [
        "## Engine",
        "",
        f"{stamp()}, NumPy {np.__version__}, torch {torch.__version__}.",
        f"Each figure is the median of {REPEATS} runs; each run times our engine and then",
        "torch.optim doing the same work (float64, one thread, analytic gradient in torch,",
        "one torch optimizer per run) back to back. Ratio = ours / torch.",
        "",
        "| case | ours (ms) | torch.optim (ms) | ratio | target (ms) | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, mine, ref, ratio, target, verdict in rows:
        shown = "" if target is None else f"≤ {target:g}"
        lines.append(f"| {name} | {mine:.1f} | {ref:.1f} | {ratio:.3f} | {shown} | {verdict} |")
    write_section("engine", lines)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
