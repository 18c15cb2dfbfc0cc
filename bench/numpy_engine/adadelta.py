"""Adadelta (torch.optim.Adadelta): steps sized by the ratio of past update and gradient RMS."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bench.numpy_engine.base import OptimizerSpec, common_params, has_decay, l2_line, tex
from common.params import Param


class State(NamedTuple):
    square_avg: np.ndarray
    acc_delta: np.ndarray


def init(params: np.ndarray, hp) -> State:
    zeros = np.zeros_like(params)
    return State(zeros, zeros)


def prepare(hp, t, flags):
    return {"weight": 1 - hp["rho"]}


def step(p, g, s, hp, t, flags):
    if flags["decay"]:
        g = g + hp["weight_decay"] * p
    rho, eps = hp["rho"], hp["eps"]
    square_avg = s.square_avg * rho + hp["weight"] * g * g
    std = np.sqrt(square_avg + eps)
    delta = np.sqrt(s.acc_delta + eps) / std * g
    acc_delta = s.acc_delta * rho + hp["weight"] * delta * delta
    return p + hp["neg_lr"] * delta, State(square_avg, acc_delta)


def flags(hp):
    return {"decay": has_decay(hp)}


def equation(lr: str, v) -> list[str]:
    rho, keep, eps = tex(v["rho"]), tex(1 - v["rho"]), tex(v["eps"])
    return [
        *l2_line(v),
        rf"v &\leftarrow {rho}\,v + {keep}\,g^2",
        rf"\Delta &= \frac{{\sqrt{{u + {eps}}}}}{{\sqrt{{v + {eps}}}}}\,g",
        rf"u &\leftarrow {rho}\,u + {keep}\,\Delta^2",
        rf"\theta &\leftarrow \theta - {lr}\,\Delta",
    ]


ADADELTA = OptimizerSpec(
    name="adadelta",
    title="Adadelta",
    params=(
        Param("rho", 0.9, low=0.0, high=1.0, help="decay rate of both running averages"),
        *common_params(eps=1e-06, weight_decay=0.0),
    ),
    default_lr=1.0,
    init=init,
    step=step,
    flags=flags,
    prepare=prepare,
    torch_name="Adadelta",
    equation=equation,
    help="Matches the units of the step to the parameters using past update sizes.",
)
