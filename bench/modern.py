"""Issue 18's seven package racers benchmarked: a race of Schedule-Free SGD and AdamW,
Prodigy, LAMB, LARS, Shampoo and Sophia in the engine, beside the reference packages doing
the same work, in one run.

Run with ``make bench`` (or ``python -m bench.modern``); prints a table and rewrites the
modern section of bench/results.md. Times are medians of ``REPEATS`` (each call warmed once
first, as bench/engine.py's ``medians``); what matters is the ratio in the same run.

The references are the pinned packages' own torch optimizers (schedulefree 1.4.1,
prodigyopt 1.1.2, pytorch-optimizer 4.1.0), float64, one thread, driven exactly as
tests/test_conformance_packages.py drives them (its ``reference_path``: our analytic
gradient handed to ``param.grad`` each step, Schedule-Free's x read after each step, LARS's
point a (1, 2) weight, Sophia's diagonal injected through ``step(hessian=…)``), so each
reference computes the path the engine does. Each racer alone is timed against its package,
and the race of all seven against the sum of the seven packages.
"""

from __future__ import annotations

import os

import torch

from bench.engine import REPEATS, medians
from bench.report import load_note, stamp, write_section
from optimizers import run_race
from optimizers.validate import validate_race
from tests.test_conformance_packages import (
    SCHEDULE_FREE,
    _package,
    _prodigy,
    _sophia_reference,
    reference_path,
)

STEPS = 1000
START = [-1.5, 2.0]
# Rosenbrock rates from tests/test_conformance_packages.py (each path contractive there).
RATES = {
    "schedule_free_sgd": 5e-4,
    "schedule_free_adamw": 2e-3,
    "prodigy": 1.0,
    "lamb": 2e-3,
    "lars": 0.5,
    "shampoo": 0.1,
    "sophia": 0.02,
}
PACKAGE = {
    "schedule_free_sgd": "schedulefree.SGDScheduleFree",
    "schedule_free_adamw": "schedulefree.AdamWScheduleFree",
    "prodigy": "prodigyopt.Prodigy",
    "lamb": "pytorch_optimizer.Lamb",
    "lars": "pytorch_optimizer.LARS (a (1, 2) weight)",
    "shampoo": "pytorch_optimizer.Shampoo",
    "sophia": "pytorch_optimizer.SophiaH (hessian=…)",
}


def config(names: list[str]):
    racers = [{"optimizer": n, "lr": RATES[n]} for n in names]
    return validate_race(
        {"surface": {"name": "rosenbrock"}, "start": START, "steps": STEPS, "racers": racers}
    )


def reference(name: str):
    """A call that runs the racer's package for the race's steps, as the conformance test."""
    one = config([name])
    if name in SCHEDULE_FREE:
        make, shown = SCHEDULE_FREE[name]
        return lambda: reference_path(one, make, shown)
    if name == "prodigy":
        return lambda: reference_path(one, _prodigy)
    if name == "sophia":
        return lambda: _sophia_reference(one)
    cls = {"lamb": "Lamb", "lars": "LARS", "shampoo": "Shampoo"}[name]
    shape = (1, 2) if name == "lars" else (2,)
    return lambda: reference_path(one, _package(cls), shape=shape)


def main() -> None:
    load = os.getloadavg()[0]
    torch.set_num_threads(1)
    names = list(RATES)
    race = config(names)
    diverged = [r.optimizer for r in run_race(race).racers if r.diverged_at is not None]
    assert not diverged, f"bench racers must not diverge: {diverged}"
    alone = [config([n]) for n in names]
    ours_race, *ours = medians([lambda: run_race(race)] + [lambda c=c: run_race(c) for c in alone])
    theirs = medians([reference(n) for n in names])
    rows = [(n, o, t, PACKAGE[n]) for n, o, t in zip(names, ours, theirs, strict=True)]
    rows.append(("race: the seven", ours_race, sum(theirs), "the seven packages"))

    lines = [
        "## Package racers: Schedule-Free, Prodigy, LAMB, LARS, Shampoo, Sophia (issue 18)",
        "",
        f"{stamp()}; torch {torch.__version__}, one thread.",
        f"Rosenbrock from (−1.5, 2), {STEPS:,} steps a run at the conformance tests' rates,",
        f"default hyper-parameters; medians of {REPEATS} timed calls each (bench/modern.py).",
        "Each racer alone in the engine against its package stepped in a float64 torch loop",
        "as tests/test_conformance_packages.py drives it (our analytic gradient written to",
        "param.grad each step; Sophia's Hutchinson diagonal computed in Python on its update",
        "steps and injected), then the race of all seven against the sum of the seven.",
        load_note(load),
        "",
        "| case | ours (ms) | reference | reference (ms) | reference / ours |",
        "|---|---:|---|---:|---:|",
    ]
    for case, o, t, what in rows:
        lines.append(f"| {case} | {o * 1e3:,.2f} | {what} | {t * 1e3:,.1f} | {t / o:,.0f}× |")
    print("\n".join(lines))
    write_section("modern", lines)


if __name__ == "__main__":
    main()
