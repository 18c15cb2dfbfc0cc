"""Adamax (torch.optim.Adamax): Adam with an infinity-norm second moment."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bench.numpy_engine.base import OptimizerSpec, common_params, l2_line, lerp, moment_flags, tex


class State(NamedTuple):
    m: np.ndarray
    u: np.ndarray


def init(params: np.ndarray, hp) -> State:
    zeros = np.zeros_like(params)
    return State(zeros, zeros)


def prepare(hp, t, flags):
    return {"weight1": 1 - hp["beta1"], "neg_step": -(hp["lr"] / (1 - hp["beta1"] ** t))}


def step(p, g, s, hp, t, flags):
    if flags["decay"]:
        g = g + hp["weight_decay"] * p
    m = lerp(s.m, g, hp["weight1"], flags["lerp"])
    u = np.maximum(s.u * hp["beta2"], np.abs(g) + hp["eps"])
    return p + (hp["neg_step"] * m) / u, State(m, u)


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    return [
        *l2_line(v),
        rf"m &\leftarrow {tex(b1)}\,m + {tex(1 - b1)}\,g",
        rf"u &\leftarrow \max({tex(b2)}\,u,\ |g| + {tex(v['eps'])})",
        rf"\theta &\leftarrow \theta - \frac{{{lr}}}{{1 - {tex(b1)}^t}}\,\frac{{m}}{{u}}",
    ]


ADAMAX = OptimizerSpec(
    name="adamax",
    title="Adamax",
    params=common_params(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
    default_lr=2e-3,
    init=init,
    step=step,
    flags=moment_flags,
    prepare=prepare,
    cycles="beta1",
    torch_name="Adamax",
    equation=equation,
    help="Adam whose denominator is a decaying maximum of |g| instead of an RMS.",
)
