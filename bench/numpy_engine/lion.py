"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): sign of a momentum mix.

Not in torch.optim; follows the paper's update: c = β1·m + (1−β1)·g, x ← x − lr·(sign(c) + λx),
m ← β2·m + (1−β2)·g. Every coordinate moves by exactly ±lr (plus decay) each step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bench.numpy_engine.base import OptimizerSpec, common_params, has_decay, tex


class State(NamedTuple):
    m: np.ndarray


def init(params: np.ndarray, hp) -> State:
    return State(np.zeros_like(params))


def prepare(hp, t, flags):
    b1, b2 = hp["beta1"], hp["beta2"]
    return {"weight1": 1 - b1, "weight2": 1 - b2, "shrink": 1 - hp["lr"] * hp["weight_decay"]}


def step(p, g, s, hp, t, flags):
    if flags["decay"]:
        p = p * hp["shrink"]
    direction = np.sign(s.m * hp["beta1"] + hp["weight1"] * g)
    p = p + hp["neg_lr"] * direction
    return p, State(s.m * hp["beta2"] + hp["weight2"] * g)


def flags(hp):
    return {"decay": has_decay(hp)}


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
    title="Lion",
    params=common_params(betas=(0.9, 0.99), weight_decay=0.0),
    default_lr=1e-4,
    init=init,
    step=step,
    flags=flags,
    prepare=prepare,
    cycles="beta1",
    torch_name=None,
    equation=equation,
    help="Steps by the sign of a momentum blend: every coordinate moves by the same amount.",
)
