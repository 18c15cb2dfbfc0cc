"""Adam and AdamW (torch.optim.Adam / AdamW), with amsgrad and a switch for bias correction."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from bench.numpy_engine.base import (
    OptimizerSpec,
    common_params,
    decay_lines,
    lerp,
    moment_flags,
    moment_lines,
    tex,
)
from common.params import Param


class State(NamedTuple):
    m: np.ndarray
    v: np.ndarray
    v_max: np.ndarray


def init(params: np.ndarray, hp) -> State:
    zeros = np.zeros_like(params)
    return State(zeros, zeros, zeros)


def prepare(hp, t, flags):
    lr, b1, b2 = hp["lr"], hp["beta1"], hp["beta2"]
    out = {"weight1": 1 - b1, "weight2": 1 - b2}
    if flags["bias_correction"]:
        out["neg_step"] = -(lr / (1 - b1**t))
        out["bc2_sqrt"] = (1 - b2**t) ** 0.5
    else:
        out["neg_step"], out["bc2_sqrt"] = -lr, np.ones(np.shape(b2))
    decay = hp["weight_decay"]
    if flags["decoupled"] == "mixed":
        # AdamW runs shrink p and add 0·p to g; Adam runs multiply p by 1 and add λ·p.
        decoupled = hp["is_decoupled"] == 1
        out["shrink"] = np.where(decoupled, 1 - lr * decay, 1.0)
        out["l2"] = np.where(decoupled, 0.0, decay)
    elif flags["decoupled"]:
        out["shrink"] = 1 - lr * decay
    return out


def step(p, g, s, hp, t, flags):
    if flags["decay"]:
        if flags["decoupled"] == "mixed":
            p = p * hp["shrink"]
            g = g + hp["l2"] * p
        elif flags["decoupled"]:
            p = p * hp["shrink"]
        else:
            g = g + hp["weight_decay"] * p
    m = lerp(s.m, g, hp["weight1"], flags["lerp"])
    v = s.v * hp["beta2"] + hp["weight2"] * g * g
    v_max = np.maximum(s.v_max, v) if flags["amsgrad"] else s.v_max
    denom = np.sqrt(v_max if flags["amsgrad"] else v) / hp["bc2_sqrt"] + hp["eps"]
    return p + (hp["neg_step"] * m) / denom, State(m, v, v_max)


def inspect(s, hp, t, flags):
    b1, b2 = hp["beta1"], hp["beta2"]
    one = np.ones_like(b1)
    bc1 = 1 - b1**t if flags["bias_correction"] else one
    bc2 = 1 - b2**t if flags["bias_correction"] else one
    v_hat = (s.v_max if flags["amsgrad"] else s.v) / bc2
    return {
        "bias_correction1": bc1,
        "bias_correction2": bc2,
        "m_hat": s.m / bc1,
        "v_hat": v_hat,
        "effective_lr": hp["lr"] / (np.sqrt(v_hat) + hp["eps"]),
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

    def group_key(values: dict[str, Any], cycled: bool) -> dict[str, bool]:
        return {
            "amsgrad": values["amsgrad"],
            "bias_correction": values["bias_correction"],
            "decoupled": decoupled,
        }

    return OptimizerSpec(
        name=name,
        title=title,
        params=(
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
        ),
        default_lr=1e-3,
        init=init,
        step=step,
        flags=moment_flags,
        group_key=group_key,
        family="adam",
        mixable=("decoupled",),
        prepare=prepare,
        cycles="beta1",
        torch_name="AdamW" if decoupled else "Adam",
        equation=equation,
        inspect=inspect,
        help=help,
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
