"""L-BFGS as torch.optim.LBFGS with ``max_iter`` 1: one torch ``step(closure)`` per race step.

Written operation by operation in torch's order (``torch/optim/lbfgs.py``: the two-loop
recursion, the first step's length min(1, 1/‖g‖₁)·lr, the curvature test yᵀs > 1e-10, and
``_strong_wolfe`` with its cubic interpolation), each ``add_(v, alpha=a)`` as one fused
multiply-add (``oracle.fma``: torch's CPU kernel fuses it), so the path equals torch's bit for
bit on the tested surfaces (tests/test_lbfgs.py).

Each step evaluates f and ∇f where it starts (torch's first ``closure()``), then, with the
strong Wolfe line search, at every trial (torch's ``_directional_evaluate``); each is one
closure call, counted as one gradient by the oracle (``loss_and_gradient``). With ``max_iter``
1 torch's stopping rules inside a step are: ‖g‖∞ ≤ tolerance_grad (return before moving) and
gᵀd > −tolerance_change (no descent direction). Once either fires the racer stops there for
good: the state's ``stopped`` says which (1 gradient, 2 direction), and later steps evaluate
nothing (torch would call the closure again and again not move).

The history (up to ``HISTORY`` pairs s, y with their ρ and α) does not fit the contract's
named slots; it lives in the state's ``memory`` tail (``Kernel.memory``), which the
engine carries from step to step but does not record for the inspector. The newest pair is
last, as in torch's lists: a full history drops its oldest pair by shifting (torch's pop(0)).
"""

from __future__ import annotations

from common.jit import inlined
from common.params import Param
from optimizers import linesearch, oracle
from optimizers.base import Card, Kernel, Limits, OptimizerSpec, hyper_layout, state_slots, tex

# The largest history a racer may keep: the state's memory holds this many pairs.
HISTORY = 100
# torch's _strong_wolfe defaults, which LBFGS does not pass on.
C1, C2 = 1e-4, 0.9
MAX_EVAL = 50

PARAMS = (
    Param(
        "history_size",
        100,
        kind="int",
        low=1,
        high=HISTORY,
        help="how many recent (step, gradient change) pairs shape the inverse-Hessian estimate",
    ),
    Param(
        "line_search_fn",
        "none",
        kind="choice",
        choices=("none", "strong_wolfe"),
        help="none: step lr along the direction; strong_wolfe: torch's line search picks the "
        "step (cubic interpolation; sufficient decrease c1 = 1e-4, curvature c2 = 0.9)",
    ),
    Param(
        "max_eval",
        25,
        kind="int",
        low=1,
        high=MAX_EVAL,
        help="closure calls per step; the line search may use all but the first. torch's "
        "own default at max_iter 1 (1) leaves the line search no trial beyond its first",
    ),
    Param(
        "tolerance_grad",
        1e-7,
        low=0.0,
        high=1.0,
        scale="log",
        help="the racer stops where the largest gradient component is at most this",
    ),
    Param(
        "tolerance_change",
        1e-9,
        low=0.0,
        high=1.0,
        scale="log",
        help="the racer stops where the direction's slope gᵀd is above minus this",
    ),
)
HISTORY_SIZE, LINE_SEARCH, MAX_EVALS, TOL_GRAD, TOL_CHANGE = hyper_layout(PARAMS)

# State: named slots, then the memory (HISTORY rows each of s, y, and the scalars ρ, α).
STATE = ("d", "prev_grad")
SCALARS = ("t", "h_diag", "n_iter", "history", "stopped")
D, PREV = state_slots(STATE, SCALARS, "d", "prev_grad")
T, H_DIAG, N_ITER, COUNT, STOPPED = state_slots(STATE, SCALARS, *SCALARS)
NAMED = 2 * len(STATE) + len(SCALARS)
OLD_STPS = NAMED
OLD_DIRS = OLD_STPS + 2 * HISTORY
RO = OLD_DIRS + 2 * HISTORY
AL = RO + HISTORY
MEMORY = 6 * HISTORY


@inlined
def _direction(s, gx, gy, history):
    """torch's history update and two-loop recursion: d = −H·g, written into s[D]."""
    yx, yy = gx - s[PREV], gy - s[PREV + 1]
    sx, sy = s[D] * s[T], s[D + 1] * s[T]
    ys = yx * sx + yy * sy
    count = int(s[COUNT])
    if ys > 1e-10:
        if count == history:  # drop the oldest pair (torch's pop(0))
            for i in range(count - 1):
                for k in range(2):
                    s[OLD_DIRS + 2 * i + k] = s[OLD_DIRS + 2 * i + 2 + k]
                    s[OLD_STPS + 2 * i + k] = s[OLD_STPS + 2 * i + 2 + k]
                s[RO + i] = s[RO + i + 1]
            count -= 1
        s[OLD_DIRS + 2 * count] = yx
        s[OLD_DIRS + 2 * count + 1] = yy
        s[OLD_STPS + 2 * count] = sx
        s[OLD_STPS + 2 * count + 1] = sy
        s[RO + count] = 1.0 / ys
        count += 1
        s[COUNT] = count
        s[H_DIAG] = ys / (yx * yx + yy * yy)
    qx, qy = -gx, -gy
    for i in range(count - 1, -1, -1):
        a = (s[OLD_STPS + 2 * i] * qx + s[OLD_STPS + 2 * i + 1] * qy) * s[RO + i]
        s[AL + i] = a
        qx = oracle.fma(-a, s[OLD_DIRS + 2 * i], qx)
        qy = oracle.fma(-a, s[OLD_DIRS + 2 * i + 1], qy)
    rx, ry = qx * s[H_DIAG], qy * s[H_DIAG]
    for i in range(count):
        be = (s[OLD_DIRS + 2 * i] * rx + s[OLD_DIRS + 2 * i + 1] * ry) * s[RO + i]
        rx = oracle.fma(s[AL + i] - be, s[OLD_STPS + 2 * i], rx)
        ry = oracle.fma(s[AL + i] - be, s[OLD_STPS + 2 * i + 1], ry)
    s[D], s[D + 1] = rx, ry


@inlined
def step(o, w, s, h, lr, cyc, t):
    """One torch.optim.LBFGS step (max_iter 1) for one run."""
    if s[STOPPED] != 0:
        return w[0], w[1]
    loss, gx, gy = oracle.loss_and_gradient(o, w[0], w[1])
    if max(abs(gx), abs(gy)) <= h[TOL_GRAD]:
        s[STOPPED] = 1.0
        return w[0], w[1]
    s[N_ITER] += 1
    if s[N_ITER] == 1:
        s[D], s[D + 1] = -gx, -gy
        s[COUNT] = 0.0
        s[H_DIAG] = 1.0
    else:
        _direction(s, gx, gy, int(h[HISTORY_SIZE]))
    s[PREV], s[PREV + 1] = gx, gy
    if s[N_ITER] == 1:
        s[T] = min(1.0, 1.0 / (abs(gx) + abs(gy))) * lr
    else:
        s[T] = lr
    dx, dy = s[D], s[D + 1]
    gtd = gx * dx + gy * dy
    if gtd > -h[TOL_CHANGE]:
        s[STOPPED] = 2.0
        return w[0], w[1]
    if h[LINE_SEARCH] != 0:
        s[T] = linesearch.strong_wolfe(o, w, s[T], dx, dy, loss, gtd, C1, C2, int(h[MAX_EVALS]) - 1)
    w[0] = oracle.fma(s[T], dx, w[0])
    w[1] = oracle.fma(s[T], dy, w[1])
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    search = (
        r"t &= \text{strong Wolfe}(" + lr + r")"
        if v["line_search_fn"] == "strong_wolfe"
        else rf"t &= {lr}"
    )
    return [
        rf"d &= -H_{{{int(v['history_size'])}}}\,g \quad(\text{{two-loop, max\_eval }}"
        rf"{int(v['max_eval'])})",
        search,
        r"\theta &\leftarrow \theta + t\,d",
        rf"\text{{stop}} &: \|g\|_\infty \le {tex(v['tolerance_grad'])}"
        rf"\ \text{{or}}\ g^\top d > -{tex(v['tolerance_change'])}",
    ]


LBFGS = OptimizerSpec(
    name="lbfgs",
    params=PARAMS,
    kernel=Kernel(
        step=step,
        state=STATE,
        scalars=SCALARS,
        memory=MEMORY,
        gradients=MAX_EVAL + 1,
        stops=("tolerance_grad", "tolerance_change"),
    ),
    card=Card(
        title="L-BFGS",
        default_lr=1.0,
        equation=equation,
        help="torch.optim.LBFGS, one iteration per step: a quasi-Newton direction from the last "
        "history_size steps and gradient changes, optionally with a strong Wolfe line search. "
        "Stops where torch's tolerances fire (stopped: 1 gradient, 2 direction).",
    ),
    limits=Limits(
        # The two-loop recursion walks the whole history every step: about 1 + history/10.
        step_cost=lambda v: 1.0 + v["history_size"] / 10,
    ),
)
