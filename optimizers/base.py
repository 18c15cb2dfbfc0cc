"""The optimizer contract, in one place: a registry entry plus one compiled per-run kernel.

An optimizer is written once, for one run, like torch's single-tensor function
(``_single_tensor_adam`` in ``torch/optim/adam.py``): operation by operation in torch's order,
so that the conformance tests (torch.optim, float64, ≥ 1,000 steps, ≤ 1e-9) hold. The kernel is
compiled (``common.jit``) and the engine advances every run of a race, sweep, fan or
many-starts view through it. The kernel's signature::

    step(o, w, s, h, lr, cyc, t) -> (x, y)

* ``o``: the oracle (``optimizers.oracle``): ``value(o, x, y)``, ``gradient(o, x, y)``,
  ``loss_and_gradient(o, x, y)`` (a closure's f and ∇f: one gradient), ``hessian(o, x, y)``
  and, on a sum of squares, ``normal_equations(o, x, y)`` (f, Jᵀr and JᵀJ) at any point.
  It adds the race's noise to and clips every gradient, and counts every evaluation;
  nothing else reaches the surface.
* ``w``: the optimizer's parameters (float64[2]); the kernel updates them in place.
* ``s``: the state (float64[...]): the 2-vectors named in ``Kernel.state`` (two slots each,
  in order), then the scalars named in ``Kernel.scalars``, then ``Kernel.memory`` more slots
  (zeros): room for what does not fit a few names (L-BFGS's history of pairs), carried from
  step to step like the rest but not recorded for the inspector. ``Kernel.init`` gives its
  starting values (zeros if None).
* ``h``: the hyper-parameters (float64[...]) in ``OptimizerSpec.params`` order, a pair as two
  entries, a bool as 1.0/0.0, a choice as its index in ``choices``, an empty nullable number
  as NaN, then ``Kernel.constants`` (``hyper_layout`` gives the indices).
* ``lr``: this step's rate (the schedule applied); ``cyc``: this step's momentum or β1 when
  the optimizer names one in ``Kernel.cycles`` (a cycling schedule drives it; else its own
  value).
* ``t``: the step number, from 1.
* returns the point to display (and score) after the step: usually ``w``, but a method that
  evaluates at one point and shows another (Schedule-Free's average) returns the latter.

Learned from optax (a small typed state, pure update functions) and torch.optim (names,
defaults, validation messages, operation order).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from common.errors import ConfigError
from common.params import Param

Array = np.ndarray
# State over the steps of one run, by name: each (n, 2) (or (n,) for a scalar).
StateHistory = Mapping[str, Array]

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


def hyper_names(params: tuple[Param, ...], constants: Mapping[str, float] = {}) -> list[str]:
    """The names of ``h``'s entries, in order: a pair ``betas`` is ``beta1``, ``beta2``."""
    names: list[str] = []
    for p in params:
        names += ["beta1", "beta2"] if p.kind == "pair" else [p.name]
    return names + list(constants)


def hyper_layout(params: tuple[Param, ...], *constants: str) -> range:
    """The indices of ``h`` for a kernel module to unpack into named constants, e.g.
    ``B1, B2, EPS = hyper_layout(PARAMS)``; the unpacking fails if the counts differ."""
    return range(len(hyper_names(params)) + len(constants))


def state_slots(state: tuple[str, ...], scalars: tuple[str, ...], *names: str) -> tuple[int, ...]:
    """The indices of ``s`` where the named entries start, for a kernel module to unpack into
    named constants from the very tuples its spec declares, e.g. ``M, V = state_slots(STATE,
    (), "m", "v")``: a vector takes two slots, in ``state`` order, then the scalars. Derived,
    so a kernel cannot read one slot while the inspector names another; an unknown name
    fails at import."""
    layout = {name: 2 * i for i, name in enumerate(state)}
    layout.update({name: 2 * len(state) + i for i, name in enumerate(scalars)})
    unknown = [name for name in names if name not in layout]
    if unknown:
        raise KeyError(f"not in the state {state} or scalars {scalars}: {unknown}")
    return tuple(layout[name] for name in names)


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


@dataclass(frozen=True, kw_only=True)
class Kernel:
    """What running an optimizer needs: the compiled step and the layout of what it reads and
    writes (the module docstring's ``s``, ``h`` and ``cyc``). The engine reads this record and
    the entry's ``params``, nothing else of it; the sweep reads ``swept``, the step inspector
    the state's names.

    ``step`` is the compiled kernel (``common.jit``). ``state``, ``scalars``, ``memory``: the
    layout of ``s``; ``init`` its starting values, given the hyper-parameter values (zeros if
    None). ``constants``: ``h``'s entries after the hyper-parameters, fixed by the registry
    entry (AdamW's ``decoupled``), so two entries can share one compiled step.
    ``gradients`` is the most gradient evaluations one step asks for: the race draws that
    many noise vectors per step. ``cycles``: the hyper-parameter ``cyc`` stands for
    (``momentum`` or ``beta1``), which a cycling schedule drives; None: the step reads no
    ``cyc``.

    ``swept`` names what sets the step's length and what a sweep varies: ``lr``, or for an
    optimizer that takes no rate (its step ignores lr) one of its own ``params``.
    ``stops``: the reasons an optimizer may stop for good, for the state scalar ``stopped``
    (1 is the first reason, 2 the second; 0 running): the engine reports the step and the
    reason (``Trajectories.stopped_at``, ``stop_reason``).

    ``shown_rate``: for an optimizer that estimates its own rate (Prodigy's d·lr), the state
    scalar its step writes that rate into after every step; the engine records it as the
    step's rate (``Trajectories.lrs``: the result's ``lr``, the rate chart, the leaderboard's
    note, named ``Card.rate_name``) instead of the scheduled one. None (the default): the
    scheduled rate, exactly as the step received it.
    """

    step: Any
    state: tuple[str, ...] = ()
    scalars: tuple[str, ...] = ()
    memory: int = 0
    init: Callable[[Mapping[str, Any]], Array] | None = None
    constants: Mapping[str, float] = field(default_factory=dict)
    gradients: int = 1
    cycles: str | None = None
    swept: str = "lr"
    stops: tuple[str, ...] = ()
    shown_rate: str | None = None

    @property
    def named_size(self) -> int:
        """The state's named slots: what the inspector records after every step."""
        return 2 * len(self.state) + len(self.scalars)

    @property
    def stop_slot(self) -> int:
        """The state index of the scalar ``stopped`` (−1: the optimizer never stops)."""
        if not self.stops:
            return -1
        return 2 * len(self.state) + self.scalars.index("stopped")

    @property
    def rate_slot(self) -> int:
        """The state index of ``shown_rate`` (−1: the engine shows the scheduled rate)."""
        if self.shown_rate is None:
            return -1
        return 2 * len(self.state) + self.scalars.index(self.shown_rate)

    @property
    def state_size(self) -> int:
        return self.named_size + self.memory

    def initial_state(self, values: Mapping[str, Any]) -> Array:
        size = max(self.state_size, 1)
        return np.zeros(size) if self.init is None else np.asarray(self.init(values), float)

    def cycled_default(self, values: Mapping[str, Any]) -> float:
        """``cyc`` when no schedule cycles it: the optimizer's own momentum or β1."""
        if self.cycles == "beta1":
            return float(values["betas"][0])
        if self.cycles is not None:
            return float(values[self.cycles])
        return 0.0

    def unpack_state(self, rows: Array) -> dict[str, Array]:
        """(n, state_size) rows as named entries: (n, 2) per vector, (n,) per scalar."""
        out = {name: rows[:, 2 * i : 2 * i + 2] for i, name in enumerate(self.state)}
        base = 2 * len(self.state)
        out.update({name: rows[:, base + i] for i, name in enumerate(self.scalars)})
        return out


@dataclass(frozen=True, kw_only=True)
class Card:
    """What a person sees of an optimizer: a racer's card (its title in the optimizer menu
    and the labels, its rate box's starting value, its update rule), the step inspector's
    derived quantities, and the words the registry's listing gives it (``help``).

    ``rate_name`` names the rate the results show when the optimizer estimates its own
    (``Kernel.shown_rate``: Prodigy's ``d·lr``). ``equation``: the update rule as aligned
    LaTeX lines, given the rate (already as LaTeX, η_t when a schedule drives it) and the
    hyper-parameter values: shown beside each racer. ``inspect`` (optional), for the step
    inspector: quantities derived from the state after every step (bias corrections, the
    per-coordinate effective rate), given the state's history, the hyper-parameter values,
    and per step the rate, ``cyc`` and ``t``.
    """

    title: str
    help: str
    default_lr: float
    rate_name: str = "lr"
    equation: Callable[[str, Mapping[str, Any]], list[str]] = lambda lr, values: []
    inspect: (
        Callable[[StateHistory, Mapping[str, Any], Array, Array, Array], dict[str, Array]] | None
    ) = None


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What the validator checks a racer of this optimizer against, and what the work limits
    charge for it (optimizers/validate.py). ``sam`` and ``residuals`` state facts about the
    step's code, but nothing that runs it reads them: the engine runs what it is given, and
    the validator refuses what they rule out, before anything runs.

    ``check``: refuses a combination of hyper-parameter values that each pass their own
    bounds (a ``ConfigError`` naming the field), given the values and the field's path.
    ``step_cost``: what one step costs the server at worst, in plain steps (a one-gradient
    step on the costliest surface), given the hyper-parameters: the work limits count a
    racer's steps times this (``racer_cost``). Measured with bench-like batches (2,000
    steps × 12 rates on rastrigin, ackley, rosenbrock, himmelblau; see the specs).

    ``sam``: a step asks for exactly one gradient, at the point its parameters hold (torch's
    param), and nothing else, so sharpness-aware steps (a racer's ``sam_rho``) can move that
    point: the oracle takes the gradient at θ + e instead. False (the default) for anything
    else (line searches, Hessians, function values, several gradients): the validator
    refuses SAM there. ``residuals``: the step needs a surface that is a sum of squares
    (``normal_equations``); the validator refuses others.
    """

    check: Callable[[Mapping[str, Any], str], None] = lambda values, field: None
    step_cost: Callable[[Mapping[str, Any]], float] = lambda values: 1.0
    sam: bool = False
    residuals: bool = False


@dataclass(frozen=True, kw_only=True)
class Export:
    """What Copy as PyTorch needs to write a racer as a plain torch.optim loop
    (exports/pytorch.py), and what the conformance tests compare it with: ``torch_name``,
    the class in torch.optim with the same hyper-parameter names (None: none; the curvature
    and package racers are written by their own modules, exports/pytorch_loops.py and
    pytorch_packages.py, and the others are refused)."""

    torch_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class OptimizerSpec:
    """A registry entry: everything the engine, validator, UI and exports need to know,
    grouped by who reads it, so each reader takes one small record and a field's meaning is
    written once, beside its kind: ``kernel`` (running it), ``card`` (showing it), ``limits``
    (validating and charging it), ``export`` (writing it as PyTorch).

    A field more than one of them reads lives with the record of what decides it: the step's
    code decides ``Kernel.swept`` (it ignores lr) and ``Kernel.cycles`` (what ``cyc`` stands
    for), which the card, the listing and Copy as PyTorch also read; ``Kernel.shown_rate`` is
    the step's, the name the page gives that rate (``Card.rate_name``) the card's.

    ``name`` and ``params`` (the hyper-parameters) stay on the entry itself: every reader
    needs them (the step's ``h``, the validator's bounds, the card's controls, the torch
    copy's arguments, a share link's defaults), and they are what the schedule and surface
    registries have too (``registry[name].params``), so code that handles any of the three
    reads them the same way. Adding an optimizer is still one module (its step and this
    entry) and one line in optimizers/registry.py.
    """

    name: str
    params: tuple[Param, ...]
    kernel: Kernel
    card: Card
    limits: Limits = field(default_factory=Limits)
    export: Export = field(default_factory=Export)

    def hyper(self, values: Mapping[str, Any]) -> Array:
        """``h`` for one run: its hyper-parameter values as the kernel reads them (an empty
        nullable number as NaN: the kernel applies the default its help states), then the
        kernel's constants."""
        out: list[float] = []
        for p in self.params:
            v = values[p.name]
            if p.kind == "pair":
                out += [float(v[0]), float(v[1])]
            elif p.kind == "choice":
                out.append(float(p.choices.index(v)))
            elif v is None:
                out.append(np.nan)
            else:
                out.append(float(v))
        constants = [float(c) for c in self.kernel.constants.values()]
        return np.array(out + constants or [0.0])

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def to_json(self) -> dict[str, Any]:
        """The registry's listing of this optimizer (the API's ``/api/optimizers``): flat,
        because its keys are the API's contract, not this record's layout."""
        lr = LR.to_json()
        lr["default"] = self.card.default_lr
        return {
            "name": self.name,
            "title": self.card.title,
            "help": self.card.help,
            "torch": self.export.torch_name,
            "cycles": self.kernel.cycles,
            "swept": self.kernel.swept,
            "residuals": self.limits.residuals,
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


def require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ConfigError(field, message)
