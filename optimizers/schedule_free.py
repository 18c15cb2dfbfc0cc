"""Schedule-Free SGD and AdamW (Defazio et al. 2024), as the package ``schedulefree`` 1.4.1's
SGDScheduleFree and AdamWScheduleFree compute them (their default ``foreach`` path).

Three sequences instead of a schedule: z takes the base steps (z ← z − lr·g), x is a running
average of the z's (the point a user should evaluate: the package puts it in the parameters
only after ``.eval()``), and y = (1 − β)·z + β·x interpolates between them; the gradient is
taken at y. The package keeps y in the parameters and z in its state and updates y directly:

    y ← lerp(y, z, c) + lr·(β(1 − c) − 1)·g,  z ← z − lr·g,
    c = w_t / Σw,  w_t = t^r · lr_max^weight_lr_power

(lr warmed up linearly over ``warmup_steps``; lr_max the largest so far), and ``.eval()``
recovers x = lerp(y, z, 1 − 1/β). Here w is y, the state keeps y (a copy, for the inspector)
and z, and the kernel returns x: the racer is drawn, scored and ranked at x, and y (where
the gradient was taken) is the step's probe. AdamW's g is the gradient divided by
√(v/(1 − β2^t)) + eps, v the second moment; weight decay is added to that (at y).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from common.jit import inlined
from common.params import Param
from optimizers import oracle
from optimizers.base import (
    Card,
    Kernel,
    Limits,
    OptimizerSpec,
    common_params,
    hyper_layout,
    require,
    state_slots,
    tex,
)

# Slots of the state: y, z (2-vectors), then AdamW's second moment v, then the scalars.
SGD_STATE = ("y", "z")
ADAMW_STATE = ("y", "z", "v")
SCALARS = ("weight_sum", "lr_max")
Y, Z = state_slots(SGD_STATE, SCALARS, "y", "z")


def _shared(warmup: str) -> tuple[Param, ...]:
    return (
        *common_params(weight_decay=0.0),
        Param(
            "warmup_steps",
            0,
            kind="int",
            low=0,
            high=100_000,
            help=f"ramp lr up linearly over this many steps ({warmup})",
        ),
        Param(
            "r",
            0.0,
            low=0.0,
            high=10.0,
            help="polynomial weighting of the average: step t weighs t^r (0: uniform)",
        ),
        Param(
            "weight_lr_power",
            2.0,
            low=0.0,
            high=10.0,
            help="each step's weight in the average also scales with lr_max to this power "
            "(0: no weighting)",
        ),
    )


SGD_PARAMS = (
    Param(
        "momentum",
        0.9,
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
        help="β: where between z (0) and the average x (1) the gradient is taken",
    ),
    *_shared("then constant: no schedule"),
)
ADAMW_PARAMS = (
    *common_params(betas=(0.9, 0.999), eps=1e-08),
    *_shared("then constant: no schedule"),
)
MOMENTUM, S_WD, S_WARMUP, S_R, S_POWER = hyper_layout(SGD_PARAMS)
B1, B2, EPS, A_WD, A_WARMUP, A_R, A_POWER = hyper_layout(ADAMW_PARAMS)


@inlined
def _weights(s, lr, t, warmup, r, power, sums):
    """The warmed-up rate and the averaging weight c = w_t / Σw (the package's ckp1); on the
    first step z starts at y (its clone of the parameters). ``sums`` is the first scalar slot
    (Σw, then lr_max)."""
    k = t - 1
    if k < warmup:
        lr = lr * ((k + 1) / warmup)
    if t == 1:
        s[sums] = 0.0
        s[sums + 1] = -1.0
    lr_max = max(lr, s[sums + 1])
    s[sums + 1] = lr_max
    weight = (float(t) ** r) * (lr_max**power)
    total = s[sums] + weight
    s[sums] = total
    ckp1 = weight / total if total != 0 else 0.0
    return lr, ckp1


@inlined
def _move(o, w, s, i, g, lr, ckp1, beta, wd):
    """y and z's update for coordinate i, given its (normalized) gradient g."""
    if wd != 0:
        g = oracle.fma(wd, w[i], g)
    y = oracle.lerp(w[i], s[Z + i], ckp1)
    w[i] = oracle.fma(lr * (beta * (1 - ckp1) - 1), g, y)
    s[Z + i] = oracle.fma(-lr, g, s[Z + i])
    s[Y + i] = w[i]


@inlined
def _average(s, beta):
    """x, what ``.eval()`` puts in the parameters: lerp(y, z, 1 − 1/β)."""
    weight = 1 - 1 / beta
    return oracle.lerp(s[Y], s[Z], weight), oracle.lerp(s[Y + 1], s[Z + 1], weight)


(SGD_SUMS,) = state_slots(SGD_STATE, SCALARS, "weight_sum")  # lr_max follows


@inlined
def sgd_step(o, w, s, h, lr, cyc, t):
    """SGDScheduleFree.step (foreach) for one run; returns x."""
    beta = h[MOMENTUM]
    if t == 1:
        s[Z], s[Z + 1] = w[0], w[1]
    lr, ckp1 = _weights(s, lr, t, h[S_WARMUP], h[S_R], h[S_POWER], SGD_SUMS)
    gx, gy = oracle.gradient(o, w[0], w[1])
    _move(o, w, s, 0, gx, lr, ckp1, beta, h[S_WD])
    _move(o, w, s, 1, gy, lr, ckp1, beta, h[S_WD])
    return _average(s, beta)


V, ADAMW_SUMS = state_slots(ADAMW_STATE, SCALARS, "v", "weight_sum")


@inlined
def adamw_step(o, w, s, h, lr, cyc, t):
    """AdamWScheduleFree.step (foreach) for one run; returns x."""
    b1, b2, eps = h[B1], h[B2], h[EPS]
    if t == 1:
        s[Z], s[Z + 1] = w[0], w[1]
    bias2 = 1 - oracle.power(o, b2, t)
    lr, ckp1 = _weights(s, lr, t, h[A_WARMUP], h[A_R], h[A_POWER], ADAMW_SUMS)
    gx, gy = oracle.gradient(o, w[0], w[1])
    for i in range(2):
        g = gx if i == 0 else gy
        # torch's CPU addcmul_ fuses: v·β2 + (value·g)·g rounded once.
        s[V + i] = oracle.fma((1 - b2) * g, g, s[V + i] * b2)
        g = g / (np.sqrt(s[V + i] / bias2) + eps)
        _move(o, w, s, i, g, lr, ckp1, b1, h[A_WD])
    return _average(s, b1)


def adamw_check(values: Mapping[str, Any], field: str) -> None:
    """β1 is Schedule-Free AdamW's β: x = lerp(y, z, 1 − 1/β1) divides by it (the package's
    ``.eval()`` raises ZeroDivisionError at β1 = 0; SGD's momentum bound is open there)."""
    require(values["betas"][0] > 0, f"{field}.betas[0]", "β1 must be above 0 (x divides by it)")


def _rule(lr: str, v, beta: float, gradient: list[str]) -> list[str]:
    warm = v["warmup_steps"]
    rate = rf"\eta_t &= {lr}\cdot\min(1, t/{warm})" if warm else rf"\eta_t &= {lr}"
    decay = rf" + {tex(v['weight_decay'])}\,y" if v["weight_decay"] else ""
    return [
        rate,
        rf"c &= \frac{{t^{{{tex(v['r'])}}}\,\eta_{{\max}}^{{{tex(v['weight_lr_power'])}}}}}"
        rf"{{\sum_{{s \le t}} s^{{{tex(v['r'])}}}\,\eta_{{\max}}^{{{tex(v['weight_lr_power'])}}}}}",
        *gradient,
        rf"y &\leftarrow (1 - c)\,y + c\,z + \eta_t\,({tex(beta)}(1 - c) - 1)\,(g{decay})",
        rf"z &\leftarrow z - \eta_t\,(g{decay})",
        rf"\theta = x &= y + (1 - 1/{tex(beta)})\,(z - y) \quad\text{{(drawn; }}g\text{{ at }}y)",
    ]


def sgd_equation(lr: str, v) -> list[str]:
    return _rule(lr, v, v["momentum"], [])


def adamw_equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    return _rule(
        lr,
        v,
        b1,
        [
            rf"v &\leftarrow {tex(b2)}\,v + {tex(1 - b2)}\,g^2",
            rf"g &\leftarrow g / (\sqrt{{v / (1 - {tex(b2)}^t)}} + {tex(v['eps'])})",
        ],
    )


def _inspect(beta_of):
    def inspect(state, values, lr, cyc, t):
        """x (drawn), y (where the gradient is taken) and z (the base sequence)."""
        beta = beta_of(values)
        x = state["y"] + (1 - 1 / beta) * (state["z"] - state["y"])
        return {"x": x}

    return inspect


HELP = (
    "Reference: schedulefree 1.4.1 ({cls}, foreach path). No schedule: a constant rate, and "
    "the racer is drawn at x, the average of the base steps z; the gradient is taken at y, "
    "between z and x (its probe). The loss shown is f(x)."
)

SCHEDULE_FREE_SGD = OptimizerSpec(
    name="schedule_free_sgd",
    params=SGD_PARAMS,
    kernel=Kernel(step=sgd_step, state=SGD_STATE, scalars=SCALARS),
    card=Card(
        title="Schedule-Free SGD",
        default_lr=1.0,
        equation=sgd_equation,
        inspect=_inspect(lambda v: v["momentum"]),
        help=HELP.format(cls="SGDScheduleFree"),
    ),
    limits=Limits(sam=True),
)
SCHEDULE_FREE_ADAMW = OptimizerSpec(
    name="schedule_free_adamw",
    params=ADAMW_PARAMS,
    kernel=Kernel(step=adamw_step, state=ADAMW_STATE, scalars=SCALARS),
    card=Card(
        title="Schedule-Free AdamW",
        default_lr=0.0025,
        equation=adamw_equation,
        inspect=_inspect(lambda v: v["betas"][0]),
        help=HELP.format(cls="AdamWScheduleFree"),
    ),
    limits=Limits(check=adamw_check, sam=True),
)
