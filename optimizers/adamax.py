"""Adamax (torch.optim.Adamax): Adam with an infinity-norm second moment."""

from __future__ import annotations

import numpy as np

from common.jit import inlined
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

PARAMS = common_params(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
B1, B2, EPS, WD = hyper_layout(PARAMS)
STATE = ("m", "u")
SCALARS = ()
M, U = state_slots(STATE, SCALARS, "m", "u")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """torch.optim.adamax._single_tensor_adamax for one run; ``cyc`` is the (cycled) β1."""
    b1, b2, eps, wd = cyc, h[B2], h[EPS], h[WD]
    neg_step = -(lr / (1 - oracle.power(o, b1, t)))
    gx, gy = oracle.gradient(o, w[0], w[1])
    for i in range(2):
        gi = gx if i == 0 else gy
        if wd != 0:
            gi = gi + wd * w[i]
        s[M + i] = oracle.lerp(s[M + i], gi, 1 - b1)
        s[U + i] = oracle.maximum(s[U + i] * b2, np.abs(gi) + eps)
        w[i] = w[i] + (neg_step * s[M + i]) / s[U + i]
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    return [
        *l2_line(v),
        rf"m &\leftarrow {tex(b1)}\,m + {tex(1 - b1)}\,g",
        rf"u &\leftarrow \max({tex(b2)}\,u,\ |g| + {tex(v['eps'])})",
        rf"\theta &\leftarrow \theta - \frac{{{lr}}}{{1 - {tex(b1)}^t}}\,\frac{{m}}{{u}}",
    ]


ADAMAX = OptimizerSpec(
    name="adamax",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, cycles="beta1"),
    card=Card(
        title="Adamax",
        default_lr=2e-3,
        equation=equation,
        help="Adam whose denominator is a decaying maximum of |g| instead of an RMS.",
    ),
    limits=Limits(sam=True),
    export=Export(torch_name="Adamax"),
)
