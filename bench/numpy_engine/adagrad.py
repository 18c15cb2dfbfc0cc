"""AdaGrad (torch.optim.Adagrad): per-coordinate steps shrink with the sum of squared gradients."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bench.numpy_engine.base import OptimizerSpec, common_params, has_decay, l2_line, tex
from common.params import Param


class State(NamedTuple):
    sum: np.ndarray


def init(params: np.ndarray, hp) -> State:
    return State(np.zeros_like(params) + hp["initial_accumulator_value"])


def prepare(hp, t, flags):
    return {"neg_step": -(hp["lr"] / (1 + (t - 1) * hp["lr_decay"]))}


def step(p, g, s, hp, t, flags):
    if flags["decay"]:
        g = g + hp["weight_decay"] * p
    total = s.sum + g * g
    std = np.sqrt(total) + hp["eps"]
    return p + (hp["neg_step"] * g) / std, State(total)


def inspect(s, hp, t, flags):
    return {"effective_lr": -hp["neg_step"] / (np.sqrt(s.sum) + hp["eps"])}


def flags(hp):
    return {"decay": has_decay(hp)}


def equation(lr: str, v) -> list[str]:
    rate = lr if v["lr_decay"] == 0 else rf"\frac{{{lr}}}{{1 + (t-1)\cdot {tex(v['lr_decay'])}}}"
    start = v["initial_accumulator_value"]
    return [
        *l2_line(v),
        rf"s &\leftarrow s + g^2 \quad (s_0 = {tex(start)})",
        rf"\theta &\leftarrow \theta - {rate}\,\frac{{g}}{{\sqrt{{s}} + {tex(v['eps'])}}}",
    ]


ADAGRAD = OptimizerSpec(
    name="adagrad",
    title="AdaGrad",
    params=(
        Param("lr_decay", 0.0, low=0.0, high=10.0, help="divides the rate by 1 + (t−1)·lr_decay"),
        *common_params(weight_decay=0.0),
        Param(
            "initial_accumulator_value",
            0.0,
            low=0.0,
            high=100.0,
            help="starting value of the sum of squared gradients",
        ),
        *common_params(eps=1e-10),
    ),
    default_lr=1e-2,
    init=init,
    step=step,
    flags=flags,
    prepare=prepare,
    torch_name="Adagrad",
    equation=equation,
    inspect=inspect,
    help="Sums every squared gradient, so each coordinate's step only ever shrinks.",
)
