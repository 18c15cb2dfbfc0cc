"""LARS (You et al. 2017) as pytorch-optimizer 4.1.0's ``LARS`` computes it, with the racer's
point as one (1, 2) weight: one layer.

The package scales only tensors with more than one dimension (biases and norms are left to
plain SGD), so a (2,) tensor would be plain momentum SGD; as a 1×2 weight the layer gets its
trust ratio φ = tc·‖θ‖/(‖g‖ + λ‖θ‖) (1 where ‖θ‖ or the denominator is 0), then
g ← φ·(g + λθ), the momentum buffer b ← μ·b + (1 − dampening)·g (from zeros), and
θ ← θ − lr·b (Nesterov: − lr·(g + μ·b)). The step is about lr·tc·‖θ‖ long: normalized
gradient descent whose length follows the distance from the origin. torch-optimizer's LARS
differs: it scales only when weight_decay ≠ 0.
"""

from __future__ import annotations

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
    state_slots,
    tex,
)

PARAMS = (
    *common_params(weight_decay=0.0, momentum=0.9),
    Param(
        "dampening",
        0.0,
        low=0.0,
        high=1.0,
        help="scales down the gradient added to the momentum buffer",
    ),
    Param(
        "trust_coefficient",
        1e-3,
        low=0.0,
        high=10.0,
        scale="log",
        help="tc: the step is about lr·tc·‖θ‖ long",
    ),
    Param("nesterov", False, kind="bool", help="step with g + μ·b instead of b"),
)
WD, MOMENTUM, DAMPENING, TC, NESTEROV = hyper_layout(PARAMS)
STATE = ("momentum_buffer",)
SCALARS = ("trust_ratio",)
BUF, TRUST = state_slots(STATE, SCALARS, "momentum_buffer", "trust_ratio")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """LARS._step_per_param for one (1, 2) weight; ``cyc`` is the (cycled) momentum."""
    mom, wd = cyc, h[WD]
    gx, gy = oracle.gradient(o, w[0], w[1])
    param_norm = oracle.norm(w[0], w[1])
    denominator = oracle.norm(gx, gy) + wd * param_norm
    trust = 1.0
    if param_norm > 0.0 and denominator > 0.0:
        trust = h[TC] * param_norm / denominator
    s[TRUST] = trust
    for i in range(2):
        g = gx if i == 0 else gy
        g = oracle.fma(wd, w[i], g) * trust
        if mom > 0.0:
            s[BUF + i] = oracle.fma(1.0 - h[DAMPENING], g, s[BUF + i] * mom)
            g = oracle.fma(mom, s[BUF + i], g) if h[NESTEROV] != 0 else s[BUF + i]
        w[i] = oracle.fma(-lr, g, w[i])
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    wd, mom = v["weight_decay"], v["momentum"]
    decay = rf" + {tex(wd)}\,\theta" if wd else ""
    lines = [
        rf"\phi &= \frac{{{tex(v['trust_coefficient'])}\,\|\theta\|}}"
        rf"{{\|g\| + {tex(wd)}\,\|\theta\|}}",
        rf"g &\leftarrow \phi\,(g{decay})",
    ]
    if not mom:
        return [*lines, rf"\theta &\leftarrow \theta - {lr}\,g"]
    share = "" if not v["dampening"] else rf"{tex(1 - v['dampening'])}\,"
    lines.append(rf"b &\leftarrow {tex(mom)}\,b + {share}g")
    if v["nesterov"]:
        return [*lines, rf"\theta &\leftarrow \theta - {lr}\,(g + {tex(mom)}\,b)"]
    return [*lines, rf"\theta &\leftarrow \theta - {lr}\,b"]


def inspect(state, values, lr, cyc, t):
    """The trust ratio φ each step scaled the gradient by: the step is about lr·tc·‖θ‖
    long."""
    return {"trust_ratio": state["trust_ratio"]}


LARS = OptimizerSpec(
    name="lars",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, scalars=SCALARS, cycles="momentum"),
    card=Card(
        title="LARS",
        default_lr=1.0,
        equation=equation,
        inspect=inspect,
        help="Reference: pytorch-optimizer 4.1.0 (LARS) with the point as one 1×2 weight (on a "
        "(2,) tensor it scales nothing: plain momentum SGD). Momentum SGD on the gradient "
        "rescaled by a trust ratio tc·‖θ‖/(‖g‖ + λ‖θ‖): on one 2-D layer each step is about "
        "lr·tc·‖θ‖ long whatever the gradient, so it follows the distance from the origin. "
        "Default lr 1 (the package's 1e-3 with tc 1e-3 barely moves). torch-optimizer's LARS "
        "scales only when weight_decay ≠ 0.",
    ),
    limits=Limits(sam=True),
)
