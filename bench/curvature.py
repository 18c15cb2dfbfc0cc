"""Curvature racers benchmarked (issue 17): the four (L-BFGS, Newton, GD + line search,
Gauss–Newton) in a race and in a sweep each, beside torch doing the same work, in one run.

Run with ``make bench`` (or ``python -m bench.curvature``); prints a table and rewrites the
curvature section of bench/results.md. Times are medians of ``REPEATS`` (each call warmed
once first, as bench/engine.py's ``medians``); what matters is the ratio in the same run.

The references, float64, one thread:

* torch.optim.LBFGS (max_iter 1, one ``step(closure)`` per race step, the closure handing it
  Rosenbrock's analytic f and ∇f, as tests/test_lbfgs.py): the L-BFGS racer's own work.
* the race's "Copy as PyTorch" loops for all four, executed (autograd, torch.func.hessian and
  jacrev, torch.linalg.solve, torch's own _strong_wolfe): what a student running the copied
  code pays for the same path.

A sweep is 48 values + the racer's own (its rate; Gauss–Newton's damping) × ``STEPS``; the
references run one racer's loop and are multiplied by the 49 runs (their cost is linear in
runs: each run is its own optimizer), as bench/engine.py does for its batches.
"""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import tempfile
from pathlib import Path

import torch

from bench.engine import REPEATS, medians
from bench.report import load_note, stamp, write_section
from exports.pytorch import pytorch_snippet
from optimizers import run_race
from optimizers.config import RateGrid
from optimizers.sweep import sweep
from optimizers.validate import validate_race
from surfaces import get_surface

STEPS = 300  # the torch copies' autograd loops take ~10 ms a Newton step on these machines
START = [-1.2, 1.0]
RACERS = [
    {"optimizer": "lbfgs", "lr": 1.0, "params": {"line_search_fn": "strong_wolfe"}},
    {"optimizer": "newton", "lr": 1.0},
    {"optimizer": "gd_line_search", "lr": 1.0},
    {"optimizer": "gauss_newton", "lr": 1.0},
]
GRID = RateGrid(count=48)
RUNS = GRID.count + 1  # a sweep's runs per racer: the grid and the racer's own value


def config(racers: list[dict]):
    return validate_race(
        {"surface": {"name": "rosenbrock"}, "start": START, "steps": STEPS, "racers": racers}
    )


def torch_lbfgs(racer: dict) -> None:
    """torch.optim.LBFGS as the racer, with Rosenbrock's analytic f and ∇f in its closure."""
    surface = get_surface("rosenbrock")
    param = torch.nn.Parameter(torch.tensor(START, dtype=torch.float64))
    params = config([racer]).racers[0].params
    search = params["line_search_fn"]
    opt = torch.optim.LBFGS(
        [param],
        lr=racer["lr"],
        max_iter=1,
        max_eval=params["max_eval"],
        history_size=params["history_size"],
        tolerance_grad=params["tolerance_grad"],
        tolerance_change=params["tolerance_change"],
        line_search_fn=None if search == "none" else search,
    )

    def closure():
        p = param.detach().numpy()
        param.grad = torch.from_numpy(surface.gradient(p))
        return torch.tensor(float(surface.value(p)), dtype=torch.float64)

    for _ in range(STEPS):
        opt.step(closure)


def snippet_run(racer: dict, folder: Path):
    """The racer's Copy-as-PyTorch code as the person gets it, a script file run as a
    script (runpy) each call: our own exporter's code for a fixed racer, no user text."""
    path = folder / f"snippet_{racer['optimizer']}_{len(list(folder.iterdir()))}.py"
    path.write_text(pytorch_snippet(config([racer]), 0))

    def run() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(str(path), run_name="__snippet__")

    return run


def main() -> None:
    load = os.getloadavg()[0]
    torch.set_num_threads(1)
    previous = torch.get_default_dtype()
    rows: list[tuple[str, float, float, str]] = []
    race = config(RACERS)
    lbfgs = RACERS[0]
    alone = config([lbfgs])  # validated once, as the race below
    ours, theirs = medians([lambda: run_race(alone), lambda: torch_lbfgs(lbfgs)])
    rows.append(("race: L-BFGS alone", ours, theirs, "torch.optim.LBFGS"))
    scripts = tempfile.TemporaryDirectory(prefix="bench-snippets-")
    snippets = [snippet_run(r, Path(scripts.name)) for r in RACERS]
    try:
        ours, *copies = medians([lambda: run_race(race), *snippets])
        rows.append(("race: the four", ours, sum(copies), "their four torch copies"))
        (lbfgs_torch,) = medians([lambda: torch_lbfgs(lbfgs)])
        for racer, copy in zip(RACERS, copies, strict=True):
            one = config([racer])
            (swept,) = medians([lambda one=one: sweep(one, GRID)])
            name = one.racers[0].optimizer
            rows.append((f"sweep: {name} (49 runs)", swept, RUNS * copy, "its torch copy × 49"))
            if name == "lbfgs":
                rows.append(
                    (
                        f"sweep: {name} (49 runs)",
                        swept,
                        RUNS * lbfgs_torch,
                        "torch.optim.LBFGS × 49",
                    )
                )
    finally:
        torch.set_default_dtype(previous)  # the copies set float64 for the process
        scripts.cleanup()

    lines = [
        "## Curvature racers: L-BFGS, Newton, GD + line search, Gauss–Newton (issue 17)",
        "",
        f"{stamp()}; torch {torch.__version__}, one thread. Rosenbrock from (−1.2, 1), "
        f"{STEPS:,} steps a run; medians of {REPEATS} timed calls each (bench/curvature.py).",
        "Racers: L-BFGS (strong Wolfe), Newton, GD + Armijo, Gauss–Newton (adaptive, λ₀ 1e-3).",
        "References in the same run: torch.optim.LBFGS with the analytic gradient in its closure",
        "(after torch's own stop it still calls the closure once a step, the racer nothing), and",
        "each racer's Copy-as-PyTorch loop (autograd) executed; a sweep's reference is one run",
        "× 49.",
        load_note(load),
        "",
        "| case | ours (ms) | reference | reference (ms) | reference / ours |",
        "|---|---:|---|---:|---:|",
    ]
    for case, ours, theirs, what in rows:
        lines.append(
            f"| {case} | {ours * 1e3:,.2f} | {what} | {theirs * 1e3:,.1f} | {theirs / ours:,.0f}× |"
        )
    print("\n".join(lines))
    write_section("curvature", lines)


if __name__ == "__main__":
    main()
