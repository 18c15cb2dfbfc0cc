"""Prodigy (Mishchenko & Defazio 2024): Adam whose rate d·lr it estimates itself, as the
package ``prodigyopt`` 1.1.2 computes it (``Prodigy.step``, one parameter group).

d starts at d0 and only grows: d̂ = d_coef · Σ_k d_k·dlr_k·⟨g_k, x_0 − x_k⟩ (decayed by β3) over
‖s‖₁, s the β3-decayed sum of d_k·dlr_k·g_k; d ← min(max(d, d̂), d·growth_rate). The moments
are scaled by d (m ← β1·m + d(1 − β1)·g, v ← β2·v + d²(1 − β2)·g²) and the step is
dlr·m/(√v + d·eps), dlr = d·lr (times √(1 − β2^t)/(1 − β1^t) with bias correction). lr stays
at 1 unless you want to scale the estimate. If the first ‖s‖₁ is 0 (a zero gradient) the
package returns without a step and without counting it; so does this kernel.
"""

from __future__ import annotations

import math

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
    state_slots,
    tex,
)

PARAMS = (
    *common_params(betas=(0.9, 0.999)),
    Param(
        "beta3",
        None,
        low=0.0,
        high=1.0,
        high_open=True,
        nullable=True,
        help="decay of the sums that estimate d (empty: √β2, the package's default)",
    ),
    *common_params(eps=1e-08, weight_decay=0.0),
    Param(
        "decouple",
        True,
        kind="bool",
        help="weight decay on the weights (AdamW style) rather than through the gradient",
    ),
    Param(
        "use_bias_correction",
        False,
        kind="bool",
        help="Adam's bias correction folded into dlr (the package's default: off)",
    ),
    Param(
        "safeguard_warmup",
        False,
        kind="bool",
        help="leave lr out of the denominator's sum s (steadier when lr warms up)",
    ),
    Param(
        "d0",
        1e-06,
        low=0.0,
        high=1.0,
        low_open=True,
        scale="log",
        help="the first estimate of d (deliberately small: d only grows)",
    ),
    Param(
        "d_coef",
        1.0,
        low=0.0,
        high=1000.0,
        low_open=True,
        scale="log",
        help="multiplies the estimate d̂: below 1 is more cautious",
    ),
    Param(
        "growth_rate",
        None,
        low=0.0,
        high=1e6,
        low_open=True,
        nullable=True,
        help="d grows by at most this factor a step (empty: no limit, the package's inf)",
    ),
)
B1, B2, B3, EPS, WD, DECOUPLE, BIAS, SAFEGUARD, D0, D_COEF, GROWTH = hyper_layout(PARAMS)
# State: m, v, s, x0 (2-vectors), then d, d_max, the d numerator, the package's k (steps
# taken), the step's dlr (the rate it applied) and d·lr after the step (the package's
# group['d'] * group['lr']: the estimate the engine shows as the step's rate, base.py).
STATE = ("m", "v", "s", "x0")
SCALARS = ("d", "d_max", "d_numerator", "k", "dlr", "d_lr")
M, V, S, X0 = state_slots(STATE, SCALARS, *STATE)
D, D_MAX, D_NUM, K, DLR, D_LR = state_slots(STATE, SCALARS, *SCALARS)


@inlined
def step(o, w, s, h, lr, cyc, t):
    """Prodigy.step for one run."""
    b1, b2, eps, wd = h[B1], h[B2], h[EPS], h[WD]
    b3 = h[B3]
    if b3 != b3:
        b3 = math.sqrt(b2)
    if t == 1:
        s[D], s[D_MAX] = h[D0], h[D0]
        s[X0], s[X0 + 1] = w[0], w[1]
    k = int(s[K])
    d, d_max, d0 = s[D], s[D_MAX], h[D0]
    if h[BIAS] != 0:
        bias_correction = oracle.bias_root(o, b2, k + 1) / (1 - oracle.power(o, b1, k + 1))
    else:
        bias_correction = 1.0
    dlr = d * lr * bias_correction
    d_numerator = s[D_NUM] * b3
    gx, gy = oracle.gradient(o, w[0], w[1])
    if wd != 0 and h[DECOUPLE] == 0:
        gx = oracle.fma(wd, w[0], gx)
        gy = oracle.fma(wd, w[1], gy)
    dot = gx * (s[X0] - w[0]) + gy * (s[X0 + 1] - w[1])
    delta_numerator = 0.0 + (d / d0) * dlr * dot
    s_alpha = (d / d0) * d if h[SAFEGUARD] != 0 else (d / d0) * dlr
    for i in range(2):
        g = gx if i == 0 else gy
        if b1 > 0:
            s[M + i] = oracle.fma(d * (1 - b1), g, s[M + i] * b1)
        # torch's CPU addcmul_ fuses: v·β2 + (value·g)·g rounded once.
        s[V + i] = oracle.fma(d * d * (1 - b2) * g, g, s[V + i] * b2)
        s[S + i] = oracle.fma(s_alpha, g, s[S + i] * b3)
    d_denom = 0.0 + (abs(s[S]) + abs(s[S + 1]))
    if d_denom == 0:
        s[D_LR] = d * lr
        return w[0], w[1]  # the package returns here: no step, k not advanced
    global_numerator = d_numerator + delta_numerator
    d_hat = h[D_COEF] * global_numerator / d_denom
    if d == d0 and d_hat > d:
        d = d_hat
    if d_hat > d_max:
        d_max = d_hat
    growth = h[GROWTH]
    # min(d_max, d·growth_rate), Python's min: d·growth_rate only if strictly smaller.
    d = d * growth if growth == growth and d * growth < d_max else d_max
    s[D_NUM], s[D], s[D_MAX], s[DLR], s[D_LR] = global_numerator, d, d_max, dlr, d * lr
    s[K] = k + 1
    for i in range(2):
        denom = np.sqrt(s[V + i]) + d * eps
        if wd != 0 and h[DECOUPLE] != 0:
            w[i] = oracle.fma(-wd * dlr, w[i], w[i])
        if b1 > 0:
            w[i] = w[i] + (-dlr * s[M + i]) / denom
        else:
            g = gx if i == 0 else gy
            w[i] = w[i] + (-dlr * d * g) / denom
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    b3 = r"\sqrt{\beta_2}" if v["beta3"] is None else tex(v["beta3"])
    growth = r"\infty" if v["growth_rate"] is None else tex(v["growth_rate"])
    bias = r"\,\sqrt{1 - \beta_2^t}/(1 - \beta_1^t)" if v["use_bias_correction"] else ""
    decay, coupled = [], v["weight_decay"] and not v["decouple"]
    if coupled:
        decay = [rf"g &\leftarrow g + {tex(v['weight_decay'])}\,\theta"]
    lines = [
        *decay,
        rf"\eta &= d\cdot {lr}{bias} \quad (d_0 = {tex(v['d0'])})",
        rf"r &\leftarrow {b3}\,r + (d/d_0)\,\eta\,\langle g, \theta_0 - \theta\rangle",
        rf"s &\leftarrow {b3}\,s + (d/d_0)\," + (r"d\,g" if v["safeguard_warmup"] else r"\eta\,g"),
        rf"m &\leftarrow {tex(b1)}\,m + {tex(1 - b1)}\,d\,g",
        rf"v &\leftarrow {tex(b2)}\,v + {tex(1 - b2)}\,d^2 g^2",
        rf"d &\leftarrow \min\big(\max(d, {tex(v['d_coef'])}\,r/\|s\|_1),\ "
        rf"{growth}\,d\big)",
    ]
    if v["weight_decay"] and v["decouple"]:
        lines.append(rf"\theta &\leftarrow (1 - {tex(v['weight_decay'])}\,\eta)\,\theta")
    return [
        *lines,
        rf"\theta &\leftarrow \theta - \eta\,\frac{{m}}{{\sqrt v + d\cdot {tex(v['eps'])}}}",
    ]


def inspect(state, values, lr, cyc, t):
    """The rate d gives after each step, d·lr (the next step's dlr before bias correction),
    as the kernel wrote it: the rate the race's results show."""
    return {"d_lr": np.asarray(state["d_lr"])}


PRODIGY = OptimizerSpec(
    name="prodigy",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, scalars=SCALARS, shown_rate="d_lr"),
    card=Card(
        title="Prodigy",
        default_lr=1.0,
        rate_name="d·lr",
        equation=equation,
        inspect=inspect,
        help="Reference: prodigyopt 1.1.2 (Prodigy). Adam that estimates its own rate d from how "
        "far it has come from the start against the gradients seen; d only grows, from d0. Leave "
        "lr at 1 (it scales d); its results, rate chart and leaderboard show d·lr after each step "
        "(the rate the next step applies) as its rate. growth_rate empty = no limit (inf).",
    ),
    limits=Limits(sam=True),
)
