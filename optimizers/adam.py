"""Adam and AdamW (torch.optim.Adam / AdamW), with amsgrad and a switch for bias correction."""

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


def params(weight_decay: float) -> tuple[Param, ...]:
    return (
        *common_params(betas=(0.9, 0.999), eps=1e-08, weight_decay=weight_decay),
        Param(
            "amsgrad",
            False,
            kind="bool",
            help="divide by the largest second moment seen so far",
        ),
        Param(
            "bias_correction",
            True,
            kind="bool",
            help="undo the moments' pull towards zero in the first steps (off: not torch)",
        ),
    )


B1, B2, EPS, WD, AMSGRAD, BIAS, DECOUPLED = hyper_layout(params(0.0), "decoupled")
STATE = ("m", "v", "v_max")
SCALARS = ()
M, V, V_MAX = state_slots(STATE, SCALARS, "m", "v", "v_max")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """torch.optim.adam._single_tensor_adam (and AdamW's decoupled decay) for one run;
    ``cyc`` is the (cycled) β1."""
    b1, b2, eps, wd = cyc, h[B2], h[EPS], h[WD]
    if h[BIAS] != 0:
        neg_step = -(lr / (1 - oracle.power(o, b1, t)))
        bc2_sqrt = oracle.bias_root(o, b2, t)
    else:
        neg_step, bc2_sqrt = -lr, 1.0
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
        if h[AMSGRAD] != 0:
            s[V_MAX + i] = oracle.maximum(s[V_MAX + i], s[V + i])
            denom = np.sqrt(s[V_MAX + i]) / bc2_sqrt + eps
        else:
            denom = np.sqrt(s[V + i]) / bc2_sqrt + eps
        w[i] = w[i] + (neg_step * s[M + i]) / denom
    return w[0], w[1]


def inspect(state, values, lr, cyc, t):
    b1, b2 = cyc[:, None], values["betas"][1]
    tc = t[:, None].astype(float)
    one = np.ones_like(b1)
    bc1 = 1 - b1**tc if values["bias_correction"] else one
    bc2 = 1 - b2**tc if values["bias_correction"] else one
    v_hat = (state["v_max"] if values["amsgrad"] else state["v"]) / bc2
    return {
        "bias_correction1": np.broadcast_to(bc1, v_hat.shape),
        "bias_correction2": np.broadcast_to(bc2, v_hat.shape),
        "m_hat": state["m"] / bc1,
        "v_hat": v_hat,
        "effective_lr": lr[:, None] / (np.sqrt(v_hat) + values["eps"]),
    }


def make(name: str, title: str, weight_decay: float, decoupled: bool, help: str) -> OptimizerSpec:
    def equation(lr: str, v) -> list[str]:
        b1, b2 = v["betas"]
        lines = [*decay_lines(lr, v, decoupled), *moment_lines(v)]
        second = "v"
        if v["amsgrad"]:
            lines.append(r"v_{\max} &\leftarrow \max(v_{\max}, v)")
            second = r"v_{\max}"
        if v["bias_correction"]:
            lines.append(
                rf"\hat m &= m / (1 - {tex(b1)}^t),\quad \hat v = {second} / (1 - {tex(b2)}^t)"
            )
        else:
            lines.append(
                rf"\hat m &= m,\quad \hat v = {second} \quad \text{{(no bias correction)}}"
            )
        step = rf"\frac{{\hat m}}{{\sqrt{{\hat v}} + {tex(v['eps'])}}}"
        return [*lines, rf"\theta &\leftarrow \theta - {lr}\,{step}"]

    return OptimizerSpec(
        name=name,
        params=params(weight_decay),
        kernel=Kernel(
            step=step,
            state=STATE,
            constants={"decoupled": float(decoupled)},
            cycles="beta1",
        ),
        card=Card(title=title, default_lr=1e-3, equation=equation, inspect=inspect, help=help),
        limits=Limits(sam=True),
        export=Export(torch_name="AdamW" if decoupled else "Adam"),
    )


ADAM = make(
    "adam",
    "Adam",
    0.0,
    False,
    "Momentum plus a per-coordinate step scaled by recent gradient size.",
)
ADAMW = make(
    "adamw",
    "AdamW",
    1e-2,
    True,
    "Adam with weight decay applied to the weights directly, not via the gradient.",
)
