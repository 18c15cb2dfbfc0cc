"""RMSProp (torch.optim.RMSprop), with centring and momentum."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from bench.numpy_engine.base import (
    OptimizerSpec,
    common_params,
    has_decay,
    l2_line,
    lerp,
    lerp_mode,
    tex,
)
from common.params import Param


class State(NamedTuple):
    square_avg: np.ndarray
    grad_avg: np.ndarray
    buf: np.ndarray


def init(params: np.ndarray, hp) -> State:
    zeros = np.zeros_like(params)
    return State(zeros, zeros, zeros)


def prepare(hp, t, flags):
    return {"weight": 1 - hp["alpha"]}


def step(p, g, s, hp, t, flags):
    if flags["decay"]:
        g = g + hp["weight_decay"] * p
    square_avg = s.square_avg * hp["alpha"] + hp["weight"] * g * g
    grad_avg = s.grad_avg
    if flags["centered"]:
        grad_avg = lerp(grad_avg, g, hp["weight"], flags["lerp"])
        avg = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        avg = np.sqrt(square_avg)
    avg = avg + hp["eps"]
    buf = s.buf
    if flags["momentum"]:
        buf = buf * hp["momentum"] + g / avg
        p = p + hp["neg_lr"] * buf
    else:
        p = p + (hp["neg_lr"] * g) / avg
    return p, State(square_avg, grad_avg, buf)


def inspect(s, hp, t, flags):
    if flags["centered"]:
        avg = np.sqrt(s.square_avg - s.grad_avg * s.grad_avg)
    else:
        avg = np.sqrt(s.square_avg)
    return {"effective_lr": hp["lr"] / (avg + hp["eps"])}


def flags(hp):
    return {"decay": has_decay(hp), "lerp": lerp_mode(1 - hp["alpha"])}


def group_key(values: dict[str, Any], cycled: bool) -> dict[str, bool]:
    return {"momentum": values["momentum"] > 0 or cycled, "centered": values["centered"]}


def equation(lr: str, v) -> list[str]:
    a, eps = tex(v["alpha"]), tex(v["eps"])
    lines = [*l2_line(v), rf"v &\leftarrow {a}\,v + {tex(1 - v['alpha'])}\,g^2"]
    if v["centered"]:
        lines.append(rf"\bar g &\leftarrow {a}\,\bar g + {tex(1 - v['alpha'])}\,g")
        denominator = rf"\sqrt{{v - \bar g^2}} + {eps}"
    else:
        denominator = rf"\sqrt{{v}} + {eps}"
    if v["momentum"] == 0:
        return [*lines, rf"\theta &\leftarrow \theta - {lr}\,\frac{{g}}{{{denominator}}}"]
    return [
        *lines,
        rf"b &\leftarrow {tex(v['momentum'])}\,b + \frac{{g}}{{{denominator}}}",
        rf"\theta &\leftarrow \theta - {lr}\,b",
    ]


RMSPROP = OptimizerSpec(
    name="rmsprop",
    title="RMSProp",
    params=(
        Param(
            "alpha",
            0.99,
            low=0.0,
            high=1.0,
            high_open=True,
            help="decay rate of the running mean of squared gradients",
        ),
        *common_params(eps=1e-08, weight_decay=0.0, momentum=0.0),
        Param(
            "centered",
            False,
            kind="bool",
            help="divide by the gradient's variance, not its raw second moment",
        ),
    ),
    default_lr=1e-2,
    init=init,
    step=step,
    flags=flags,
    prepare=prepare,
    group_key=group_key,
    cycles="momentum",
    torch_name="RMSprop",
    equation=equation,
    inspect=inspect,
    help="Divides each coordinate by a running RMS of its gradient, so old history fades.",
)
