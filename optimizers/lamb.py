"""LAMB (You et al. 2020) as pytorch-optimizer 4.1.0's ``Lamb`` computes it for the racer's
2-vector, one tensor: one layer (its ``foreach`` path, the one it takes by default).

An Adam direction u = m/(√v + eps) (v not bias-corrected), scaled by a trust ratio
φ = min(‖θ‖, 10)/(‖u‖ + eps), and a step of lr/(1 − β1^t) (its docstring says "without bias
correction", but its step size divides by 1 − β1^t): θ ← θ − lr/(1 − β1^t)·φ·u. On one 2-D
layer the step's length is about lr·min(‖θ‖, 10): it follows the distance from the origin,
not the gradient's size. Other packages differ: torch-optimizer's Lamb steps by lr (its
``debias`` is off by default); optax's lamb bias-corrects both moments as the paper does.
"""

from __future__ import annotations

import math

from common.jit import inlined
from common.params import Param
from optimizers import decay, oracle
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

PARAMS = (
    *common_params(betas=(0.9, 0.999)),
    *decay.params(True),
    Param(
        "grad_averaging",
        True,
        kind="bool",
        help="m takes (1 − β1)·g (off: all of g)",
    ),
    *common_params(eps=1e-06),
)
B1, B2, WD, DECOUPLE, FIXED, AVERAGING, EPS = hyper_layout(PARAMS)
STATE = ("m", "v")
SCALARS = ("trust_ratio", "weight_norm", "adam_norm")
M, V, TRUST, WEIGHT_NORM, ADAM_NORM = state_slots(
    STATE, SCALARS, "m", "v", "trust_ratio", "weight_norm", "adam_norm"
)
# The package clamps the weight norm to this.
CLAMP = 10.0


@inlined
def step(o, w, s, h, lr, cyc, t):
    """Lamb.update for one run; ``cyc`` is the (cycled) β1."""
    b1, b2, wd, eps = cyc, h[B2], h[WD], h[EPS]
    b3 = 1.0 - b1 if h[AVERAGING] != 0 else 1.0
    gx, gy = oracle.gradient(o, w[0], w[1])
    if h[DECOUPLE] != 0:  # coupled decay goes into the step u below, not the gradient
        decay.apply(w, gx, gy, wd, 1.0, h[FIXED], lr)
    u0, u1 = 0.0, 0.0
    for i in range(2):
        g = gx if i == 0 else gy
        s[M + i] = oracle.fma(b3, g, s[M + i] * b1)
        s[V + i] = oracle.fma((1.0 - b2) * g, g, s[V + i] * b2)
        u = s[M + i] / (math.sqrt(s[V + i]) + eps)
        if wd > 0 and h[DECOUPLE] == 0:
            u = oracle.fma(wd, w[i], u)
        if i == 0:
            u0 = u
        else:
            u1 = u
    weight_norm = min(max(oracle.norm(w[0], w[1]), 0.0), CLAMP)
    adam_norm = oracle.norm(u0, u1)
    trust = 1.0 if weight_norm == 0 or adam_norm == 0 else weight_norm / (adam_norm + eps)
    s[TRUST], s[WEIGHT_NORM], s[ADAM_NORM] = trust, weight_norm, adam_norm
    step_size = lr / (1.0 - oracle.power(o, b1, t))
    w[0] = oracle.fma(-step_size, u0 * trust, w[0])
    w[1] = oracle.fma(-step_size, u1 * trust, w[1])
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    wd = v["weight_decay"]
    lines = decay.lines(lr, v) if v["weight_decouple"] else []
    coupled = rf" + {tex(wd)}\,\theta" if wd and not v["weight_decouple"] else ""
    share = tex(1 - b1) + r"\," if v["grad_averaging"] else ""
    return [
        *lines,
        rf"m &\leftarrow {tex(b1)}\,m + {share}g",
        rf"v &\leftarrow {tex(b2)}\,v + {tex(1 - b2)}\,g^2",
        rf"u &= \frac{{m}}{{\sqrt v + {tex(v['eps'])}}}{coupled}",
        rf"\phi &= \frac{{\min(\|\theta\|, 10)}}{{\|u\| + {tex(v['eps'])}}}",
        rf"\theta &\leftarrow \theta - \frac{{{lr}}}{{1 - {tex(b1)}^t}}\,\phi\,u",
    ]


def inspect(state, values, lr, cyc, t):
    """The trust ratio φ each step scaled Adam's direction by, and the (clamped) ‖θ‖ it
    follows: the step is about lr·‖θ‖ long."""
    return {"trust_ratio": state["trust_ratio"], "weight_norm": state["weight_norm"]}


LAMB = OptimizerSpec(
    name="lamb",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, scalars=SCALARS, cycles="beta1"),
    card=Card(
        title="LAMB",
        default_lr=1e-3,
        equation=equation,
        inspect=inspect,
        help="Reference: pytorch-optimizer 4.1.0 (Lamb: step lr/(1 − β1^t), v not bias-corrected, "
        "‖θ‖ clamped to 10; rectify, pre_norm, adam and adanorm not offered). Adam's direction "
        "times a trust ratio ‖θ‖/‖u‖ per layer; here the point is one layer, so the step is about "
        "lr·‖θ‖ long: it follows the distance from the origin, not the gradient, and stalls about "
        "lr·‖θ*‖ from a minimum away from the origin. torch-optimizer's Lamb differs: it steps "
        "by lr (debias off).",
    ),
    limits=Limits(sam=True),
)
