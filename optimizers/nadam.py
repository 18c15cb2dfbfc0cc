"""NAdam (torch.optim.NAdam): Adam with Nesterov momentum and a momentum-decay warmup."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from common.params import Param
from optimizers.base import OptimizerSpec, common_params, has_decay, lerp, lerp_mode


class State(NamedTuple):
    m: np.ndarray
    v: np.ndarray
    mu_product: np.ndarray


def init(params: np.ndarray, hp) -> State:
    zeros = np.zeros_like(params)
    return State(zeros, zeros, np.ones((*params.shape[:-1], 1)))


def step(p, g, s, hp, t, flags):
    lr, b1, b2, decay = hp["lr"], hp["beta1"], hp["beta2"], hp["momentum_decay"]
    bias_correction2 = 1 - b2**t
    if flags["decay"]:
        if flags["decoupled_weight_decay"]:
            p = p * (1 - lr * hp["weight_decay"])
        else:
            g = g + hp["weight_decay"] * p
    mu = b1 * (1.0 - 0.5 * (0.96 ** (t * decay)))
    mu_next = b1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * decay)))
    mu_product = s.mu_product * mu
    m = lerp(s.m, g, 1 - b1, flags["lerp"])
    v = s.v * b2 + (1 - b2) * g * g
    denom = np.sqrt(v / bias_correction2) + hp["eps"]
    mu_product_next = mu_product * mu_next
    p = p + ((-lr * (1.0 - mu) / (1.0 - mu_product)) * g) / denom
    p = p + (((-lr * mu_next) / (1.0 - mu_product_next)) * m) / denom
    return p, State(m, v, mu_product)


def flags(hp):
    return {"decay": has_decay(hp), "lerp": lerp_mode(1 - hp["beta1"])}


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
        Param(
            "decoupled_weight_decay",
            False,
            kind="bool",
            help="apply weight decay to the weights (AdamW style)",
        ),
    ),
    default_lr=2e-3,
    init=init,
    step=step,
    flags=flags,
    cycles="beta1",
    torch_name="NAdam",
    help="Adam with a Nesterov look-ahead on the first moment.",
)
