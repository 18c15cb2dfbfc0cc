"""Gradient descent whose step length comes from a line search along d = −g.

Each step evaluates f and ∇f at θ (one closure), then searches the ray θ + t·d from the first
trial t₀ = lr·alpha0 (the schedule scales it):

* ``armijo``: backtracking, t₀, shrink·t₀, … (at most ``TRIALS``), the first t with
  f(θ + t·d) ≤ f(θ) + c1·t·gᵀd; each trial one function value. If none passes the racer
  stays put that step (t = 0).
* ``strong_wolfe``: torch's ``_strong_wolfe`` with c1 and c2 (|∇f(θ + t·d)ᵀd| ≤ c2·|gᵀd| as
  well), at most ``MAX_LS`` trials, each one f and ∇f.

The oracle records every trial point (the step inspector's probes), so the map can draw them.
"""

from __future__ import annotations

from common.jit import inlined
from common.params import Param
from optimizers import linesearch, oracle
from optimizers.base import (
    Card,
    Kernel,
    Limits,
    OptimizerSpec,
    hyper_layout,
    require,
    state_slots,
    tex,
)

TRIALS = 30  # Armijo's trials per step: shrink 0.5 reaches 2^-30 ≈ 1e-9 of the first trial
MAX_LS = 25  # torch's _strong_wolfe default

PARAMS = (
    Param(
        "search",
        "armijo",
        kind="choice",
        choices=("armijo", "strong_wolfe"),
        help="armijo: backtrack until f falls enough; strong_wolfe: torch's line search, "
        "which also asks the slope to flatten",
    ),
    Param(
        "alpha0",
        1.0,
        low=0.0,
        high=100.0,
        low_open=True,
        scale="log",
        help="the first trial step (times lr)",
    ),
    Param(
        "shrink",
        0.5,
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
        help="Armijo: each rejected trial step is multiplied by this",
    ),
    Param(
        "c1",
        1e-4,
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
        scale="log",
        help="sufficient decrease: f must fall by at least c1·t·|gᵀd|",
    ),
    Param(
        "c2",
        0.9,
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
        help="strong Wolfe's curvature condition: |slope| at the step at most c2·|slope| at 0",
    ),
)
SEARCH, ALPHA0, SHRINK, C1, C2 = hyper_layout(PARAMS)
# State: the accepted step length t, and whether the search accepted one.
STATE = ()
SCALARS = ("step", "accepted")
STEP, ACCEPTED = state_slots(STATE, SCALARS, "step", "accepted")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """One gradient step with a line search, for one run."""
    f, gx, gy = oracle.loss_and_gradient(o, w[0], w[1])
    dx, dy = -gx, -gy
    gtd = gx * dx + gy * dy
    first = lr * h[ALPHA0]
    if gtd >= 0:  # a zero gradient: nothing to search
        s[STEP], s[ACCEPTED] = 0.0, 0.0
        return w[0], w[1]
    if h[SEARCH] == 0:
        length, ok = linesearch.armijo(o, w, first, dx, dy, f, gtd, h[C1], h[SHRINK], TRIALS)
    else:
        length = linesearch.strong_wolfe(o, w, first, dx, dy, f, gtd, h[C1], h[C2], MAX_LS)
        ok = True
    s[STEP], s[ACCEPTED] = length, 1.0 if ok else 0.0
    w[0] = oracle.fma(length, dx, w[0])
    w[1] = oracle.fma(length, dy, w[1])
    return w[0], w[1]


def check(values, field: str) -> None:
    if values["search"] == "strong_wolfe":
        require(values["c1"] < values["c2"], f"{field}.c2", "strong Wolfe needs c1 < c2 < 1")


def equation(lr: str, v) -> list[str]:
    c1 = tex(v["c1"])
    if v["search"] == "armijo":
        rule = (
            rf"t &= \max\{{{tex(v['alpha0'])}\cdot {lr}\cdot {tex(v['shrink'])}^k :"
            rf" f(\theta - t g) \le f(\theta) - {c1}\,t\,\|g\|^2\}}"
        )
    else:
        rule = (
            rf"t &= \text{{strong Wolfe}}(t_0 = {tex(v['alpha0'])}\cdot {lr};\ c_1 = {c1},\ "
            rf"c_2 = {tex(v['c2'])})"
        )
    return [rule, r"\theta &\leftarrow \theta - t\,g"]


GD_LINE_SEARCH = OptimizerSpec(
    name="gd_line_search",
    params=PARAMS,
    kernel=Kernel(
        step=step,
        scalars=SCALARS,
        # f and ∇f at θ, then _strong_wolfe's first trial and up to MAX_LS more.
        gradients=2 + MAX_LS,
    ),
    card=Card(
        title="GD + line search",
        default_lr=1.0,
        equation=equation,
        help="Gradient descent whose step length a line search picks each step (Armijo "
        "backtracking or strong Wolfe); its trials are the points it evaluated.",
    ),
    limits=Limits(
        check=check,
        # Up to 2 + MAX_LS evaluations a step; measured at worst about 5 plain steps.
        step_cost=lambda v: 5.0,
    ),
)
