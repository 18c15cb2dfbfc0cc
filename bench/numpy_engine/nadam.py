"""NAdam (torch.optim.NAdam): Adam with Nesterov momentum and a momentum-decay warmup."""

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
from common.params import Param


class State(NamedTuple):
    m: np.ndarray
    v: np.ndarray


def init(params: np.ndarray, hp) -> State:
    zeros = np.zeros_like(params)
    return State(zeros, zeros)


def prepare(hp, t, flags):
    """μ_t, its running product (a cumprod: the same sequential product torch forms) and the
    two step coefficients, for the whole run."""
    lr, b1, b2, decay = hp["lr"], hp["beta1"], hp["beta2"], hp["momentum_decay"]
    mu = b1 * (1.0 - 0.5 * (0.96 ** (t * decay)))
    mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * decay)))
    shape = np.broadcast_shapes(np.shape(mu), np.shape(lr))
    mu, mu_next = np.broadcast_to(mu, shape), np.broadcast_to(mu_next, shape)
    mu_product = np.cumprod(mu, axis=0)
    mu_product_next = mu_product * mu_next
    return {
        "weight1": 1 - b1,
        "weight2": 1 - b2,
        "bias_correction2": (1 - b2**t) + np.zeros(shape),
        "grad_coef": -lr * (1.0 - mu) / (1.0 - mu_product),
        "mean_coef": (-lr * mu_next) / (1.0 - mu_product_next),
        "shrink": 1 - lr * hp["weight_decay"],
    }


def step(p, g, s, hp, t, flags):
    p, g, m, v = decay_and_moments(p, g, s.m, s.v, hp, flags)
    denom = np.sqrt(v / hp["bias_correction2"]) + hp["eps"]
    p = p + (hp["grad_coef"] * g) / denom
    p = p + (hp["mean_coef"] * m) / denom
    return p, State(m, v)


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    mu = rf"\mu_t &= {tex(b1)}\,(1 - \tfrac12\,0.96^{{{tex(v['momentum_decay'])}\,t}})"
    ahead = r"\frac{\mu_{t+1}\,m}{1 - \prod_{i\le t+1} \mu_i}"
    now = r"\frac{(1 - \mu_t)\,g}{1 - \prod_{i\le t} \mu_i}"
    denominator = rf"\sqrt{{v / (1 - {tex(b2)}^t)}} + {tex(v['eps'])}"
    return [
        *decay_lines(lr, v, v["decoupled_weight_decay"]),
        *moment_lines(v),
        mu,
        rf"\theta &\leftarrow \theta - {lr}\,\frac{{{ahead} + {now}}}{{{denominator}}}",
    ]


NADAM = OptimizerSpec(
    name="nadam",
    title="NAdam",
    params=(
        *common_params(betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0),
        Param(
            "momentum_decay",
            0.004,
            low=0.0,
            high=1.0,
            help="how fast the momentum coefficient warms up",
        ),
        *common_params(decoupled_weight_decay=False),
    ),
    default_lr=2e-3,
    init=init,
    step=step,
    flags=moment_flags,
    prepare=prepare,
    cycles="beta1",
    torch_name="NAdam",
    equation=equation,
    help="Adam with a Nesterov look-ahead on the first moment.",
)
