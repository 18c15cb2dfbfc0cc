"""RAdam (torch.optim.RAdam): Adam that acts as momentum SGD until its variance is reliable."""

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
    decay_lines,
    hyper_layout,
    moment_lines,
    state_slots,
    tex,
)

PARAMS = (
    *common_params(betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0),
    *common_params(decoupled_weight_decay=False),
)
B1, B2, EPS, WD, DECOUPLED = hyper_layout(PARAMS)
STATE = ("m", "v")
SCALARS = ()
M, V = state_slots(STATE, SCALARS, "m", "v")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """torch.optim.radam._single_tensor_radam for one run; ``cyc`` is the (cycled) β1."""
    b1, b2, eps, wd = cyc, h[B2], h[EPS], h[WD]
    tf = float(t)
    bias_correction1 = 1 - oracle.power(o, b1, t)
    bias_correction2 = 1 - oracle.power(o, b2, t)
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * tf * (oracle.power(o, b2, t)) / bias_correction2
    rectified = rho_t > 5.0
    rect = 0.0
    if rectified:
        rect = (
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        ) ** 0.5
    bc2_sqrt = bias_correction2**0.5
    gx, gy = oracle.gradient(o, w[0], w[1])
    for i in range(2):
        gi = gx if i == 0 else gy
        if wd != 0:
            if h[DECOUPLED] != 0:
                w[i] = w[i] * (1 - lr * wd)
            else:
                gi = gi + wd * w[i]
        s[M + i] = oracle.lerp(s[M + i], gi, 1 - b1)
        s[V + i] = s[V + i] * b2 + (1 - b2) * gi * gi
        scaled = s[M + i] / bias_correction1 * lr
        if rectified:
            adaptive = bc2_sqrt / (np.sqrt(s[V + i]) + eps)
            w[i] = w[i] - scaled * adaptive * rect
        else:
            w[i] = w[i] - scaled
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    eps = tex(v["eps"])
    return [
        *decay_lines(lr, v, v["decoupled_weight_decay"]),
        *moment_lines(v),
        rf"\rho_t &= \rho_\infty - \frac{{2t\,{tex(b2)}^t}}{{1 - {tex(b2)}^t}},"
        rf"\quad \rho_\infty = \frac{{2}}{{1 - {tex(b2)}}} - 1",
        rf"\hat m &= m / (1 - {tex(b1)}^t),\quad \hat v = v / (1 - {tex(b2)}^t)",
        rf"\theta &\leftarrow \theta - {lr}\,\hat m\ \text{{ while }} \rho_t \le 5,"
        rf"\text{{ then }} \theta - {lr}\,r_t\,\frac{{\hat m}}{{\sqrt{{\hat v}} + {eps}}}",
    ]


RADAM = OptimizerSpec(
    name="radam",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, cycles="beta1"),
    card=Card(
        title="RAdam",
        default_lr=1e-3,
        equation=equation,
        help="Adam with a rectifier that damps the adaptive step while its variance estimate "
        "is young.",
    ),
    limits=Limits(sam=True),
    export=Export(torch_name="RAdam"),
)
