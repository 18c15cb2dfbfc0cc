"""Adadelta (torch.optim.Adadelta): steps sized by the ratio of past update and gradient RMS."""

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
    Param("rho", 0.9, low=0.0, high=1.0, help="decay rate of both running averages"),
    *common_params(eps=1e-06, weight_decay=0.0),
)
RHO, EPS, WD = hyper_layout(PARAMS)
STATE = ("square_avg", "acc_delta")
SCALARS = ()
SQUARE_AVG, ACC_DELTA = state_slots(STATE, SCALARS, "square_avg", "acc_delta")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """torch.optim.adadelta._single_tensor_adadelta for one run."""
    rho, eps, wd = h[RHO], h[EPS], h[WD]
    gx, gy = oracle.gradient(o, w[0], w[1])
    for i in range(2):
        gi = gx if i == 0 else gy
        if wd != 0:
            gi = gi + wd * w[i]
        s[SQUARE_AVG + i] = s[SQUARE_AVG + i] * rho + (1 - rho) * gi * gi
        std = np.sqrt(s[SQUARE_AVG + i] + eps)
        delta = np.sqrt(s[ACC_DELTA + i] + eps) / std * gi
        s[ACC_DELTA + i] = s[ACC_DELTA + i] * rho + (1 - rho) * delta * delta
        w[i] = w[i] + (-lr) * delta
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    rho, keep, eps = tex(v["rho"]), tex(1 - v["rho"]), tex(v["eps"])
    return [
        *l2_line(v),
        rf"v &\leftarrow {rho}\,v + {keep}\,g^2",
        rf"\Delta &= \frac{{\sqrt{{u + {eps}}}}}{{\sqrt{{v + {eps}}}}}\,g",
        rf"u &\leftarrow {rho}\,u + {keep}\,\Delta^2",
        rf"\theta &\leftarrow \theta - {lr}\,\Delta",
    ]


ADADELTA = OptimizerSpec(
    name="adadelta",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE),
    card=Card(
        title="Adadelta",
        default_lr=1.0,
        equation=equation,
        help="Matches the units of the step to the parameters using past update sizes.",
    ),
    limits=Limits(sam=True),
    export=Export(torch_name="Adadelta"),
)
