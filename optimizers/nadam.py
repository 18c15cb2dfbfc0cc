"""NAdam (torch.optim.NAdam): Adam with Nesterov momentum and a momentum-decay warmup."""

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
    decay_lines,
    hyper_layout,
    moment_lines,
    state_slots,
    tex,
)

PARAMS = (
    *common_params(betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0),
    Param(
        "momentum_decay",
        0.004,
        low=0.0,
        high=1.0,
        help="how fast the momentum coefficient warms up",
    ),
    *common_params(decoupled_weight_decay=False),
)
B1, B2, EPS, WD, MOMENTUM_DECAY, DECOUPLED = hyper_layout(PARAMS)
STATE = ("m", "v")
SCALARS = ("mu_product",)
M, V, MU_PRODUCT = state_slots(STATE, SCALARS, "m", "v", "mu_product")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """torch.optim.nadam._single_tensor_nadam for one run; ``cyc`` is the (cycled) β1. μ's
    running product is state, multiplied step by step as torch does."""
    b1, b2, eps, wd, decay = cyc, h[B2], h[EPS], h[WD], h[MOMENTUM_DECAY]
    bias_correction2 = 1 - oracle.power(o, b2, t)
    mu = b1 * (1.0 - 0.5 * oracle.decay_power(o, decay, t))
    mu_next = b1 * (1.0 - 0.5 * oracle.decay_power(o, decay, t + 1))
    s[MU_PRODUCT] = s[MU_PRODUCT] * mu
    mu_product = s[MU_PRODUCT]
    mu_product_next = mu_product * mu_next
    grad_coef = -lr * (1.0 - mu) / (1.0 - mu_product)
    mean_coef = (-lr * mu_next) / (1.0 - mu_product_next)
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
        denom = np.sqrt(s[V + i] / bias_correction2) + eps
        w[i] = w[i] + (grad_coef * gi) / denom
        w[i] = w[i] + (mean_coef * s[M + i]) / denom
    return w[0], w[1]


def init(values) -> np.ndarray:
    state = np.zeros(5)
    state[MU_PRODUCT] = 1.0  # torch's state["mu_product"] starts at 1
    return state


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    mu = rf"\mu_t &= {tex(b1)}\,(1 - \tfrac12\,0.96^{{{tex(v['momentum_decay'])}\,t}})"
    ahead = r"\frac{\mu_{t+1}\,m}{1 - \prod_{i\le t+1} \mu_i}"
    now = r"\frac{(1 - \mu_t)\,g}{1 - \prod_{i\le t} \mu_i}"
    denominator = rf"\sqrt{{v / (1 - {tex(b2)}^t)}} + {tex(v['eps'])}"
    return [
        *decay_lines(lr, v, v["decoupled_weight_decay"]),
        *moment_lines(v),
        mu,
        rf"\theta &\leftarrow \theta - {lr}\,\frac{{{ahead} + {now}}}{{{denominator}}}",
    ]


NADAM = OptimizerSpec(
    name="nadam",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, scalars=SCALARS, init=init, cycles="beta1"),
    card=Card(
        title="NAdam",
        default_lr=2e-3,
        equation=equation,
        help="Adam with a Nesterov look-ahead on the first moment.",
    ),
    limits=Limits(sam=True),
    export=Export(torch_name="NAdam"),
)
