"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): sign of a momentum mix.

Not in torch.optim; follows the paper's update: c = β1·m + (1−β1)·g, x ← x − lr·(sign(c) + λx),
m ← β2·m + (1−β2)·g. Every coordinate moves by exactly ±lr (plus decay) each step.
"""

from __future__ import annotations

from common.jit import inlined
from optimizers import oracle
from optimizers.base import (
    Card,
    Kernel,
    Limits,
    OptimizerSpec,
    common_params,
    hyper_layout,
    state_slots,
    tex,
)

PARAMS = common_params(betas=(0.9, 0.99), weight_decay=0.0)
B1, B2, WD = hyper_layout(PARAMS)
STATE = ("m",)
SCALARS = ()
(M,) = state_slots(STATE, SCALARS, "m")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """The paper's update for one run; ``cyc`` is the (cycled) β1."""
    b1, b2, wd = cyc, h[B2], h[WD]
    gx, gy = oracle.gradient(o, w[0], w[1])
    for i in range(2):
        gi = gx if i == 0 else gy
        if wd != 0:
            w[i] = w[i] * (1 - lr * wd)
        direction = oracle.sign(s[M + i] * b1 + (1 - b1) * gi)
        w[i] = w[i] + (-lr) * direction
        s[M + i] = s[M + i] * b2 + (1 - b2) * gi
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    shrink = []
    if v["weight_decay"]:
        shrink = [rf"\theta &\leftarrow (1 - {lr}\cdot {tex(v['weight_decay'])})\,\theta"]
    return [
        rf"c &= {tex(b1)}\,m + {tex(1 - b1)}\,g",
        *shrink,
        rf"\theta &\leftarrow \theta - {lr}\,\operatorname{{sign}}(c)",
        rf"m &\leftarrow {tex(b2)}\,m + {tex(1 - b2)}\,g",
    ]


LION = OptimizerSpec(
    name="lion",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, cycles="beta1"),
    card=Card(
        title="Lion",
        default_lr=1e-4,
        equation=equation,
        help="Steps by the sign of a momentum blend: every coordinate moves by the same amount.",
    ),
    limits=Limits(sam=True),
)
