"""Learning-rate schedules as closed forms over the step index, equal to torch.optim.lr_scheduler.

torch computes most schedules recursively (``lr *= gamma`` each step); the closed forms here
agree to rounding (about 1e-16 relative) and let the engine compute a whole horizon, for many
runs, in a few vectorized calls before the first step. ``t`` is the number of scheduler steps
taken (0 for the first optimizer step), as in a torch training loop.

Parameters that default to ``null`` take the race's length (``steps``) or are derived from the
racer's learning rate; each ``help`` says which.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from common.errors import ConfigError
from common.params import Param

Array = np.ndarray
LrFn = Callable[[Array, Array, Mapping[str, Any], int], Array]
MomentumFn = Callable[[Array, Mapping[str, Any], int], Array | None]


@dataclass(frozen=True)
class ScheduleSpec:
    """A registry entry. ``lr(t, base_lr, params, steps)`` maps (T,) steps and (n,) base
    rates to (T, n) rates; ``momentum`` (optional) gives the (T,) momentum or β1 that
    one_cycle and cyclic drive when ``cycle_momentum`` is on."""

    name: str
    title: str
    params: tuple[Param, ...]
    lr: LrFn
    help: str
    torch_name: str | None = None
    momentum: MomentumFn | None = None
    check: Callable[[Mapping[str, Any], str], None] | None = None

    def cycles_momentum(self, params: Mapping[str, Any]) -> bool:
        return self.momentum is not None and bool(params.get("cycle_momentum", False))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "help": self.help,
            "torch": self.torch_name,
            "params": [p.to_json() for p in self.params],
        }


def _column(t: Array) -> Array:
    return np.asarray(t, dtype=float)[:, None]


def constant(t, base, p, steps):
    return np.broadcast_to(base, (len(t), len(base))).astype(float)


def step_decay(t, base, p, steps):
    return base * p["gamma"] ** (np.asarray(t)[:, None] // p["step_size"])


def exponential(t, base, p, steps):
    return base * p["gamma"] ** _column(t)


def cosine(t, base, p, steps):
    t_max = p["t_max"] or steps
    eta_min = p["eta_min"]
    return eta_min + (base - eta_min) * (1 + np.cos(math.pi * _column(t) / t_max)) / 2


def warmup_cosine(t, base, p, steps):
    total = p["total_steps"] or steps
    warmup = p["warmup_steps"]
    floor = p["min_lr"]
    tc = _column(t)
    rising = base * tc / max(warmup, 1)
    progress = np.minimum(1.0, (tc - warmup) / max(total - warmup, 1))
    falling = floor + 0.5 * (base - floor) * (1 + np.cos(math.pi * progress))
    return np.where(tc < warmup, rising, falling)


def one_cycle_phases(p: Mapping[str, Any], steps: int) -> tuple[int, list[tuple[float, str, str]]]:
    """(total steps, each phase as (its last step, as torch computes it; from; to))."""
    total = p["total_steps"] or steps
    pct = p["pct_start"]
    if p["three_phase"]:
        ends = [pct * total - 1, 2 * pct * total - 2, total - 1]
        names = [("initial", "max"), ("max", "initial"), ("initial", "min")]
    else:
        ends = [pct * total - 1, total - 1]
        names = [("initial", "max"), ("max", "min")]
    return total, [(float(e), a, b) for e, (a, b) in zip(ends, names, strict=True)]


def _anneal(kind: str, start, end, pct):
    if kind == "cos":
        return end + (start - end) / 2.0 * (np.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def _one_cycle(t: Array, p: Mapping[str, Any], steps: int, values: Mapping[str, Any]) -> Array:
    """Piecewise annealing between named anchor values, phase by phase, as OneCycleLR.

    Past ``total_steps`` the last value is held (torch raises instead). A phase of zero length
    (torch divides by zero) counts as finished.
    """
    total, phases = one_cycle_phases(p, steps)
    tc = np.minimum(_column(t), total - 1)
    shape = np.broadcast_shapes(tc.shape, np.shape(values["max"]))
    out = np.empty(shape)
    done = np.zeros(tc.shape, dtype=bool)
    start_step = 0.0
    for i, (end_step, start_name, end_name) in enumerate(phases):
        last = i == len(phases) - 1
        here = ~done & ((tc <= end_step) | last)
        span = end_step - start_step
        pct = (tc - start_step) / span if span != 0 else np.ones_like(tc)
        value = _anneal(p["anneal_strategy"], values[start_name], values[end_name], pct)
        out = np.where(here, value, out)
        done |= here
        start_step = end_step
    return out


def one_cycle(t, base, p, steps):
    initial = base / p["div_factor"]
    values = {"initial": initial, "max": base, "min": initial / p["final_div_factor"]}
    return _one_cycle(t, p, steps, values)


def one_cycle_momentum(t, p, steps):
    lo, hi = p["base_momentum"], p["max_momentum"]
    # Momentum runs opposite to the rate: high while the rate is low.
    values = {"initial": np.array([hi]), "max": np.array([lo]), "min": np.array([hi])}
    return _one_cycle(t, p, steps, values)[:, 0]


def _cyclic_position(t: Array, p: Mapping[str, Any]) -> tuple[Array, Array]:
    up = float(p["step_size_up"])
    down = float(p["step_size_down"]) if p["step_size_down"] is not None else up
    total = up + down
    ratio = up / total
    tf = np.asarray(t, dtype=float)
    cycle = np.floor(1 + tf / total)
    x = 1.0 + tf / total - cycle
    factor = np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))
    if p["mode"] == "triangular":
        scale = np.ones_like(tf)
    elif p["mode"] == "triangular2":
        scale = 1 / (2.0 ** (cycle - 1))
    else:
        scale = p["gamma"] ** tf
    return factor, scale


def cyclic(t, base, p, steps):
    low = base / 10 if p["base_lr"] is None else np.full_like(base, p["base_lr"])
    factor, scale = _cyclic_position(t, p)
    height = (base - low) * factor[:, None]
    return low + height * scale[:, None]


def cyclic_momentum(t, p, steps):
    factor, scale = _cyclic_position(t, p)
    height = (p["max_momentum"] - p["base_momentum"]) * factor
    return p["max_momentum"] - height * scale


def cosine_restarts(t, base, p, steps):
    t0, mult, eta_min = p["t_0"], p["t_mult"], p["eta_min"]
    ti = np.asarray(t, dtype=np.int64)
    if mult == 1:
        t_cur, t_i = ti % t0, np.full_like(ti, t0)
    else:
        t_cur, t_i = ti.copy(), np.full_like(ti, t0)
        start, length = 0, t0
        while start <= ti.max(initial=0):
            inside = (ti >= start) & (ti < start + length)
            t_cur[inside], t_i[inside] = ti[inside] - start, length
            start, length = start + length, length * mult
    ratio = (t_cur / t_i)[:, None]
    return eta_min + (base - eta_min) * (1 + np.cos(math.pi * ratio)) / 2


def _check_cyclic(p: Mapping[str, Any], field: str) -> None:
    if p["base_momentum"] > p["max_momentum"]:
        raise ConfigError(f"{field}.base_momentum", "must not exceed max_momentum")


STEPS_PARAM_HELP = "null: the race's number of steps"
CYCLE_MOMENTUM = Param(
    "cycle_momentum",
    True,
    kind="bool",
    help="also cycle momentum (or β1) opposite to the rate, when the optimizer has one",
)


def _momentum_bounds(base: float, top: float) -> tuple[Param, Param]:
    # Open at 0 so a cycled momentum never switches torch's `momentum != 0` branch mid-run.
    return (
        Param(
            "base_momentum",
            base,
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
            help="lowest momentum (at the peak rate)",
        ),
        Param(
            "max_momentum",
            top,
            low=0.0,
            high=1.0,
            low_open=True,
            high_open=True,
            help="highest momentum (at the lowest rate)",
        ),
    )


STEP_COUNT = dict(kind="int", low=1, high=100_000)

SCHEDULE_LIST = (
    ScheduleSpec(
        "constant", "Constant", (), constant, "The same rate every step.", "ConstantLR (factor 1)"
    ),
    ScheduleSpec(
        "step",
        "Step decay",
        (
            Param("step_size", 100, **STEP_COUNT, help="steps between drops"),
            Param("gamma", 0.1, low=0.0, high=1.0, help="factor applied at each drop"),
        ),
        step_decay,
        "Multiply the rate by gamma every step_size steps.",
        "StepLR",
    ),
    ScheduleSpec(
        "exponential",
        "Exponential",
        (Param("gamma", 0.99, low=0.0, high=1.0, help="factor applied every step"),),
        exponential,
        "Multiply the rate by gamma every step.",
        "ExponentialLR",
    ),
    ScheduleSpec(
        "cosine",
        "Cosine",
        (
            Param(
                "t_max",
                None,
                **STEP_COUNT,
                nullable=True,
                help=f"half-period in steps; {STEPS_PARAM_HELP}",
            ),
            Param("eta_min", 0.0, low=0.0, high=10.0, help="floor reached at t_max"),
        ),
        cosine,
        "Half a cosine wave from the base rate down to eta_min.",
        "CosineAnnealingLR",
    ),
    ScheduleSpec(
        "warmup_cosine",
        "Warmup + cosine",
        (
            Param(
                "warmup_steps",
                20,
                kind="int",
                low=0,
                high=100_000,
                help="steps of linear rise from 0 to the base rate",
            ),
            Param("min_lr", 0.0, low=0.0, high=10.0, help="floor reached at the end"),
            Param(
                "total_steps",
                None,
                **STEP_COUNT,
                nullable=True,
                help=f"length of warmup plus decay; {STEPS_PARAM_HELP}",
            ),
        ),
        warmup_cosine,
        "Rise linearly from 0, then follow a cosine down to min_lr.",
        None,
    ),
    ScheduleSpec(
        "one_cycle",
        "One cycle",
        (
            Param(
                "pct_start",
                0.3,
                low=0.0,
                high=1.0,
                help="fraction of the cycle spent raising the rate",
            ),
            Param(
                "anneal_strategy",
                "cos",
                kind="choice",
                choices=("cos", "linear"),
                help="shape of each phase",
            ),
            Param(
                "div_factor",
                25.0,
                low=1.0,
                high=1000000.0,
                scale="log",
                help="initial rate = base rate / div_factor",
            ),
            Param(
                "final_div_factor",
                10000.0,
                low=1.0,
                high=1000000000.0,
                scale="log",
                help="final rate = initial rate / final_div_factor",
            ),
            Param(
                "three_phase",
                False,
                kind="bool",
                help="come back down symmetrically before the final anneal",
            ),
            Param(
                "total_steps",
                None,
                **STEP_COUNT,
                nullable=True,
                help=f"length of the cycle; {STEPS_PARAM_HELP}",
            ),
            CYCLE_MOMENTUM,
            *_momentum_bounds(0.85, 0.95),
        ),
        one_cycle,
        "Up to the base rate (its peak) and down far below it, in one cycle.",
        "OneCycleLR",
        momentum=one_cycle_momentum,
        check=_check_cyclic,
    ),
    ScheduleSpec(
        "cyclic",
        "Cyclic",
        (
            Param(
                "base_lr",
                None,
                low=0.0,
                high=10.0,
                nullable=True,
                help="lower rate of the cycle; null: a tenth of the racer's rate",
            ),
            Param("step_size_up", 50, **STEP_COUNT, help="steps from the lower to the upper rate"),
            Param(
                "step_size_down",
                None,
                **STEP_COUNT,
                nullable=True,
                help="steps back down; null: same as up",
            ),
            Param(
                "mode",
                "triangular",
                kind="choice",
                choices=("triangular", "triangular2", "exp_range"),
                help="how the amplitude changes from cycle to cycle",
            ),
            Param(
                "gamma",
                1.0,
                low=0.0,
                high=1.0,
                low_open=True,
                help="exp_range: amplitude factor per step",
            ),
            CYCLE_MOMENTUM,
            *_momentum_bounds(0.8, 0.9),
        ),
        cyclic,
        "Bounce between a lower rate and the racer's rate (its upper bound).",
        "CyclicLR",
        momentum=cyclic_momentum,
        check=_check_cyclic,
    ),
    ScheduleSpec(
        "cosine_restarts",
        "Cosine with restarts",
        (
            Param("t_0", 100, **STEP_COUNT, help="length of the first cycle"),
            Param(
                "t_mult", 1, kind="int", low=1, high=10, help="each cycle is this many times longer"
            ),
            Param("eta_min", 0.0, low=0.0, high=10.0, help="floor of each cycle"),
        ),
        cosine_restarts,
        "Cosine decays that jump back to the base rate (SGDR).",
        "CosineAnnealingWarmRestarts",
    ),
)

SCHEDULES: dict[str, ScheduleSpec] = {s.name: s for s in SCHEDULE_LIST}


def schedule_values(
    name: str, params: Mapping[str, Any], base_lr: Array, steps: int
) -> tuple[Array, Array | None]:
    """Rates (steps, n) for ``n`` base rates, and the cycled momentum (steps,) or None."""
    spec = SCHEDULES[name]
    t = np.arange(steps)
    lr = spec.lr(t, np.asarray(base_lr, dtype=float), params, steps)
    momentum = spec.momentum(t, params, steps) if spec.cycles_momentum(params) else None
    return np.ascontiguousarray(lr, dtype=float), momentum
