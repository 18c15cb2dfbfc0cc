"""AdaGrad (torch.optim.Adagrad): per-coordinate steps shrink with the sum of squared gradients."""

from __future__ import annotations

import numpy as np

from common.jit import inlined
from common.params import Param
from optimizers import oracle
from optimizers.base import (
    Card,
    Export,
    Kernel,
    Limits,
    OptimizerSpec,
    common_params,
    hyper_layout,
    l2_line,
    state_slots,
    tex,
)

PARAMS = (
    Param("lr_decay", 0.0, low=0.0, high=10.0, help="divides the rate by 1 + (t−1)·lr_decay"),
    *common_params(weight_decay=0.0),
    Param(
        "initial_accumulator_value",
        0.0,
        low=0.0,
        high=100.0,
        help="starting value of the sum of squared gradients",
    ),
    *common_params(eps=1e-10),
)
LR_DECAY, WD, INITIAL, EPS = hyper_layout(PARAMS)
STATE = ("sum",)
SCALARS = ()
(SUM,) = state_slots(STATE, SCALARS, "sum")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """torch.optim.adagrad._single_tensor_adagrad for one run."""
    wd, eps = h[WD], h[EPS]
    neg_step = -(lr / (1 + (t - 1) * h[LR_DECAY]))
    gx, gy = oracle.gradient(o, w[0], w[1])
    for i in range(2):
        gi = gx if i == 0 else gy
        if wd != 0:
            gi = gi + wd * w[i]
        s[SUM + i] = s[SUM + i] + gi * gi
        std = np.sqrt(s[SUM + i]) + eps
        w[i] = w[i] + (neg_step * gi) / std
    return w[0], w[1]


def init(values) -> np.ndarray:
    return np.full(2, float(values["initial_accumulator_value"]))


def inspect(state, values, lr, cyc, t):
    rate = lr / (1 + (t - 1) * values["lr_decay"])
    return {"effective_lr": rate[:, None] / (np.sqrt(state["sum"]) + values["eps"])}


def equation(lr: str, v) -> list[str]:
    rate = lr if v["lr_decay"] == 0 else rf"\frac{{{lr}}}{{1 + (t-1)\cdot {tex(v['lr_decay'])}}}"
    start = v["initial_accumulator_value"]
    return [
        *l2_line(v),
        rf"s &\leftarrow s + g^2 \quad (s_0 = {tex(start)})",
        rf"\theta &\leftarrow \theta - {rate}\,\frac{{g}}{{\sqrt{{s}} + {tex(v['eps'])}}}",
    ]


ADAGRAD = OptimizerSpec(
    name="adagrad",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, init=init),
    card=Card(
        title="AdaGrad",
        default_lr=1e-2,
        equation=equation,
        inspect=inspect,
        help="Sums every squared gradient, so each coordinate's step only ever shrinks.",
    ),
    limits=Limits(sam=True),
    export=Export(torch_name="Adagrad"),
)
