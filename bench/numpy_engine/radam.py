"""RAdam (torch.optim.RAdam): Adam that acts as momentum SGD until its variance is reliable."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bench.numpy_engine.base import (
    OptimizerSpec,
    common_params,
    decay_and_moments,
    decay_lines,
    moment_flags,
    moment_lines,
    tex,
)


class State(NamedTuple):
    m: np.ndarray
    v: np.ndarray


def init(params: np.ndarray, hp) -> State:
    zeros = np.zeros_like(params)
    return State(zeros, zeros)


def prepare(hp, t, flags):
    lr, b1, b2 = hp["lr"], hp["beta1"], hp["beta2"]
    bias_correction2 = 1 - b2**t
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * (b2**t) / bias_correction2
    with np.errstate(invalid="ignore"):
        rect = (
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        ) ** 0.5
    shape = np.broadcast_shapes(np.shape(lr), np.shape(rho_t))
    return {
        "weight1": 1 - b1,
        "weight2": 1 - b2,
        "bias_correction1": (1 - b1**t) + np.zeros(shape),
        "bc2_sqrt": bias_correction2**0.5 + np.zeros(shape),
        "rectified": (rho_t > 5.0) & np.ones(shape, dtype=bool),
        "rect": rect + np.zeros(shape),
        "shrink": 1 - lr * hp["weight_decay"],
    }


def step(p, g, s, hp, t, flags):
    p, g, m, v = decay_and_moments(p, g, s.m, s.v, hp, flags)
    scaled = m / hp["bias_correction1"] * hp["lr"]
    adaptive = hp["bc2_sqrt"] / (np.sqrt(v) + hp["eps"])
    rectified = np.where(hp["rectified"], scaled * adaptive * hp["rect"], scaled)
    return p - rectified, State(m, v)


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    eps = tex(v["eps"])
    return [
        *decay_lines(lr, v, v["decoupled_weight_decay"]),
        *moment_lines(v),
        rf"\rho_t &= \rho_\infty - \frac{{2t\,{tex(b2)}^t}}{{1 - {tex(b2)}^t}},"
        rf"\quad \rho_\infty = \frac{{2}}{{1 - {tex(b2)}}} - 1",
        rf"\hat m &= m / (1 - {tex(b1)}^t),\quad \hat v = v / (1 - {tex(b2)}^t)",
        rf"\theta &\leftarrow \theta - {lr}\,\hat m\ \text{{ while }} \rho_t \le 5,"
        rf"\text{{ then }} \theta - {lr}\,r_t\,\frac{{\hat m}}{{\sqrt{{\hat v}} + {eps}}}",
    ]


RADAM = OptimizerSpec(
    name="radam",
    title="RAdam",
    params=(
        *common_params(betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0),
        *common_params(decoupled_weight_decay=False),
    ),
    default_lr=1e-3,
    init=init,
    step=step,
    flags=moment_flags,
    prepare=prepare,
    cycles="beta1",
    torch_name="RAdam",
    equation=equation,
    help="Adam with a rectifier that damps the adaptive step while its variance estimate is young.",
)
