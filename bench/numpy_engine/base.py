"""The optimizer protocol: a registry entry plus pure init/step functions over batched state.

Learned from optax (an optimizer is a pair of pure functions over a small typed state) with
two deliberate differences:

* ``step`` returns the new parameters, not an additive update. torch.optim mutates parameters
  with specific operation orders (``p.mul_(1 - lr*wd)`` then ``p.addcdiv_(...)``); returning
  ``p + update`` would add a rounding step and break last-digit conformance.
* Every array carries a leading batch axis of runs, shape (runs, 2); hyper-parameters arrive as
  (runs, 1) columns, so runs with different settings of one optimizer advance in one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from common.errors import ConfigError
from common.params import Param

Array = np.ndarray
Hyper = Mapping[str, Array]
Flags = Mapping[str, Any]
LerpMode = Literal["small", "large", "mixed"]

# The learning rate is common to every optimizer; bounds match the UI's log slider.
LR = Param(
    "lr",
    1e-3,
    low=0.0,
    high=10.0,
    low_open=True,
    scale="log",
    help="base learning rate (the schedule scales it step by step)",
)


def lerp_mode(weight: Array) -> LerpMode:
    """Which branch torch's lerp takes for every value ``weight`` takes over the run."""
    small = np.abs(weight) < 0.5
    if small.all():
        return "small"
    if not small.any():
        return "large"
    return "mixed"


def lerp(start: Array, end: Array, weight: Array, mode: LerpMode) -> Array:
    """torch.lerp's exact arithmetic: two formulas, chosen by the size of the weight."""
    diff = end - start
    if mode == "small":
        return start + weight * diff
    if mode == "large":
        return end - diff * (1 - weight)
    return np.where(np.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))


def tex(value: float) -> str:
    """A number as LaTeX: plain where it reads easily, a power of ten where it does not."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.6g}"
    mantissa, exponent = f"{value:.3e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else f"{mantissa}\\cdot {power}"


def l2_line(values: Mapping[str, Any]) -> list[str]:
    """torch's coupled weight decay, as an equation line (none when the decay is 0)."""
    decay = values.get("weight_decay", 0.0)
    return [rf"g &\leftarrow g + {tex(decay)}\,\theta"] if decay else []


def moment_lines(v) -> list[str]:
    """The first and second moment updates shared by the Adam family's equations."""
    b1, b2 = v["betas"]
    return [
        rf"m &\leftarrow {tex(b1)}\,m + {tex(1 - b1)}\,g",
        rf"v &\leftarrow {tex(b2)}\,v + {tex(1 - b2)}\,g^2",
    ]


def decay_lines(lr: str, v, decoupled: bool) -> list[str]:
    """Weight decay as the Adam family applies it: on the weights, or through the gradient."""
    if not v["weight_decay"]:
        return []
    if decoupled:
        return [rf"\theta &\leftarrow (1 - {lr}\cdot {tex(v['weight_decay'])})\,\theta"]
    return l2_line(v)


def has_decay(hp: Mapping[str, Array]) -> bool:
    """torch skips the weight-decay term entirely when it is 0; so do we, per group."""
    return bool(np.any(hp["weight_decay"] != 0))


@dataclass(frozen=True)
class OptimizerSpec:
    """A registry entry: everything the engine, validator, UI and API need to know.

    ``cycles`` names the hyper-parameter that a momentum-cycling schedule (one_cycle, cyclic)
    drives, as torch does: ``"momentum"`` or ``"beta1"``; None if the optimizer has neither.
    Runs of one optimizer advance together when they take the same code path: ``group_key``
    gives a run's path-deciding choices (by default its boolean hyper-parameters), and
    ``flags`` adds the choices computed from a group's values over the whole run (is any
    weight decay non-zero, which branch lerp takes). ``step`` receives both as ``flags``.
    Specs of one ``family`` (presets, Adam and AdamW) share their functions, and their runs
    share a group even when they differ in a path choice named in ``mixable``: that flag is
    then ``"mixed"``, ``hp["is_<flag>"]`` holds 1.0 or 0.0 per run, and the step must give
    each run exactly what its own path would (multiplying by 1, adding 0). Each group costs
    a dozen NumPy calls per step, so fewer groups is what makes a race of many optimizers fast.
    ``prepare`` (optional) computes, before the first step, quantities that depend on the
    step number only (bias corrections, NAdam's μ products): it gets every hyper-parameter
    over the run, the steps ``t`` as a (steps, 1, 1) array and the flags, and returns arrays
    that ``step`` then finds in ``hp``, one row per step.
    """

    name: str
    title: str
    params: tuple[Param, ...]
    default_lr: float
    init: Callable[[Array, Hyper], NamedTuple]
    step: Callable[[Array, Array, Any, Hyper, int, Flags], tuple[Array, Any]]
    flags: Callable[[Hyper], dict[str, Any]]
    help: str
    torch_name: str | None = None
    cycles: str | None = None
    group_key: Callable[[Mapping[str, Any], bool], dict[str, bool]] | None = None
    prepare: Callable[[Hyper, Array, Flags], dict[str, Array]] | None = None
    check: Callable[[Mapping[str, Any], str], None] = lambda values, field: None
    family: str | None = None
    mixable: tuple[str, ...] = ()
    # The update rule as aligned LaTeX lines, given the rate (already as LaTeX, η_t when a
    # schedule drives it) and the hyper-parameter values: shown beside each racer.
    equation: Callable[[str, Mapping[str, Any]], list[str]] = lambda lr, values: []
    # For the step inspector (optional): quantities derived from the state after step t,
    # such as bias corrections and the per-coordinate effective rate, by name.
    inspect: Callable[[Any, Hyper, int, Flags], dict[str, Array]] | None = None

    def path_flags(self, values: Mapping[str, Any], cycled: bool) -> dict[str, bool]:
        """The choices that put a run in a group: its booleans unless the spec says more."""
        if self.group_key is not None:
            return self.group_key(values, cycled)
        return {p.name: values[p.name] for p in self.params if p.kind == "bool"}

    @property
    def kernel(self) -> str:
        """The family whose shared step function runs this spec's runs."""
        return self.family or self.name

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def to_json(self) -> dict[str, Any]:
        lr = LR.to_json()
        lr["default"] = self.default_lr
        return {
            "name": self.name,
            "title": self.title,
            "help": self.help,
            "torch": self.torch_name,
            "cycles": self.cycles,
            "lr": lr,
            "params": [p.to_json() for p in self.params],
        }


def common_params(**defaults: Any) -> tuple[Param, ...]:
    """The hyper-parameters shared by several optimizers, with one wording and one set of bounds."""
    table = {
        "betas": lambda d: Param(
            "betas",
            d,
            kind="pair",
            low=0.0,
            high=1.0,
            high_open=True,
            help="decay rates of the first and second moment estimates",
        ),
        "eps": lambda d: Param(
            "eps",
            d,
            low=0.0,
            high=1.0,
            scale="log",
            help="added to the denominator so a zero second moment cannot divide by zero",
        ),
        "weight_decay": lambda d: Param(
            "weight_decay",
            d,
            low=0.0,
            high=10.0,
            help="L2 penalty: pulls the parameters towards the origin",
        ),
        "decoupled_weight_decay": lambda d: Param(
            "decoupled_weight_decay",
            d,
            kind="bool",
            help="apply weight decay to the weights (AdamW style)",
        ),
        "momentum": lambda d: Param(
            "momentum",
            d,
            low=0.0,
            high=1.0,
            high_open=True,
            help="fraction of the previous velocity kept each step",
        ),
    }
    return tuple(table[name](default) for name, default in defaults.items())


def moment_flags(hp: Mapping[str, Array]) -> dict[str, Any]:
    """Flags of the Adam family: is decay on, and which branch lerp takes for 1 − β1."""
    return {"decay": has_decay(hp), "lerp": lerp_mode(1 - hp["beta1"])}


def decay_and_moments(p, g, m, v, hp, flags):
    """The opening shared by NAdam and RAdam: L2 or decoupled weight decay, then torch's
    first-moment lerp and second-moment update. Returns (p, g, m, v)."""
    if flags["decay"]:
        if flags["decoupled_weight_decay"]:
            p = p * hp["shrink"]
        else:
            g = g + hp["weight_decay"] * p
    m = lerp(m, g, hp["weight1"], flags["lerp"])
    v = v * hp["beta2"] + hp["weight2"] * g * g
    return p, g, m, v


def require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ConfigError(field, message)
