"""Adam and AdamW (torch.optim.Adam / AdamW), with amsgrad and a switch for bias correction."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from common.params import Param
from optimizers.base import OptimizerSpec, common_params, has_decay, lerp, lerp_mode


class State(NamedTuple):
    m: np.ndarray
    v: np.ndarray
    v_max: np.ndarray


def init(params: np.ndarray, hp) -> State:
    zeros = np.zeros_like(params)
    return State(zeros, zeros, zeros)


def step(p, g, s, hp, t, flags):
    lr, b1, b2 = hp["lr"], hp["beta1"], hp["beta2"]
    if flags["decay"]:
        if flags["decoupled"]:
            p = p * (1 - lr * hp["weight_decay"])
        else:
            g = g + hp["weight_decay"] * p
    m = lerp(s.m, g, 1 - b1, flags["lerp"])
    v = s.v * b2 + (1 - b2) * g * g
    if flags["bias_correction"]:
        step_size = lr / (1 - b1**t)
        bias_correction2_sqrt = (1 - b2**t) ** 0.5
    else:
        step_size, bias_correction2_sqrt = lr, 1.0
    v_max = np.maximum(s.v_max, v) if flags["amsgrad"] else s.v_max
    denom = np.sqrt(v_max if flags["amsgrad"] else v) / bias_correction2_sqrt + hp["eps"]
    return p + (-step_size * m) / denom, State(m, v, v_max)


def make(name: str, title: str, weight_decay: float, decoupled: bool, help: str) -> OptimizerSpec:
    def flags(hp):
        return {"decay": has_decay(hp), "decoupled": decoupled, "lerp": lerp_mode(1 - hp["beta1"])}

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
        flags=flags,
        cycles="beta1",
        torch_name="AdamW" if decoupled else "Adam",
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
