"""RMSProp (torch.optim.RMSprop), with centring and momentum."""

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
    Param(
        "alpha",
        0.99,
        low=0.0,
        high=1.0,
        high_open=True,
        help="decay rate of the running mean of squared gradients",
    ),
    *common_params(eps=1e-08, weight_decay=0.0, momentum=0.0),
    Param(
        "centered",
        False,
        kind="bool",
        help="divide by the gradient's variance, not its raw second moment",
    ),
)
ALPHA, EPS, WD, MOMENTUM_, CENTERED = hyper_layout(PARAMS)
STATE = ("square_avg", "grad_avg", "buf")
SCALARS = ()
SQUARE_AVG, GRAD_AVG, BUF = state_slots(STATE, SCALARS, "square_avg", "grad_avg", "buf")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """torch.optim.rmsprop._single_tensor_rmsprop for one run; ``cyc`` is the momentum."""
    alpha, eps, wd, mom = h[ALPHA], h[EPS], h[WD], cyc
    gx, gy = oracle.gradient(o, w[0], w[1])
    for i in range(2):
        gi = gx if i == 0 else gy
        if wd != 0:
            gi = gi + wd * w[i]
        s[SQUARE_AVG + i] = s[SQUARE_AVG + i] * alpha + (1 - alpha) * gi * gi
        if h[CENTERED] != 0:
            s[GRAD_AVG + i] = oracle.lerp(s[GRAD_AVG + i], gi, 1 - alpha)
            avg = np.sqrt(s[SQUARE_AVG + i] - s[GRAD_AVG + i] * s[GRAD_AVG + i])
        else:
            avg = np.sqrt(s[SQUARE_AVG + i])
        avg = avg + eps
        if mom > 0:
            s[BUF + i] = s[BUF + i] * mom + gi / avg
            w[i] = w[i] + (-lr) * s[BUF + i]
        else:
            w[i] = w[i] + ((-lr) * gi) / avg
    return w[0], w[1]


def inspect(state, values, lr, cyc, t):
    if values["centered"]:
        avg = np.sqrt(state["square_avg"] - state["grad_avg"] * state["grad_avg"])
    else:
        avg = np.sqrt(state["square_avg"])
    return {"effective_lr": lr[:, None] / (avg + values["eps"])}


def equation(lr: str, v) -> list[str]:
    a, eps = tex(v["alpha"]), tex(v["eps"])
    lines = [*l2_line(v), rf"v &\leftarrow {a}\,v + {tex(1 - v['alpha'])}\,g^2"]
    if v["centered"]:
        lines.append(rf"\bar g &\leftarrow {a}\,\bar g + {tex(1 - v['alpha'])}\,g")
        denominator = rf"\sqrt{{v - \bar g^2}} + {eps}"
    else:
        denominator = rf"\sqrt{{v}} + {eps}"
    if v["momentum"] == 0:
        return [*lines, rf"\theta &\leftarrow \theta - {lr}\,\frac{{g}}{{{denominator}}}"]
    return [
        *lines,
        rf"b &\leftarrow {tex(v['momentum'])}\,b + \frac{{g}}{{{denominator}}}",
        rf"\theta &\leftarrow \theta - {lr}\,b",
    ]


RMSPROP = OptimizerSpec(
    name="rmsprop",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, cycles="momentum"),
    card=Card(
        title="RMSProp",
        default_lr=1e-2,
        equation=equation,
        inspect=inspect,
        help="Divides each coordinate by a running RMS of its gradient, so old history fades.",
    ),
    limits=Limits(sam=True),
    export=Export(torch_name="RMSprop"),
)
