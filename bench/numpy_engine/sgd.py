"""SGD with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD; plus presets."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from bench.numpy_engine.base import OptimizerSpec, common_params, has_decay, l2_line, require, tex
from common.params import Param


class State(NamedTuple):
    buf: np.ndarray


def init(params: np.ndarray, hp) -> State:
    return State(np.zeros_like(params))


def prepare(hp, t, flags):
    out = {"keep": 1 - hp["dampening"]}
    if flags["momentum"] == "mixed":
        # A run without momentum has μ = 0, so buf·0 + 1·g is exactly its own gradient.
        out["keep"] = np.where(hp["is_momentum"] == 1, out["keep"], 1.0)
    if flags["nesterov"] == "mixed":
        # Nesterov runs take 1·g + μ·buf; the others 0·g + 1·buf, which is exactly buf.
        out["look"] = hp["is_nesterov"]
        out["ahead"] = np.where(hp["is_nesterov"] == 1, hp["momentum"], 1.0)
    return out


def step(p, g, s, hp, t, flags):
    if flags["decay"]:
        g = g + hp["weight_decay"] * p
    buf = s.buf
    if flags["momentum"]:
        mom = hp["momentum"]
        # torch starts the buffer as a copy of the first gradient, without dampening.
        buf = g.copy() if t == 1 else buf * mom + hp["keep"] * g
        if flags["nesterov"] == "mixed":
            g = hp["look"] * g + hp["ahead"] * buf
        else:
            g = g + mom * buf if flags["nesterov"] else buf
    return p + hp["neg_lr"] * g, State(buf)


def flags(hp):
    return {"decay": has_decay(hp)}


def group_key(values: dict[str, Any], cycled: bool) -> dict[str, bool]:
    # torch branches on `momentum != 0`: runs with and without a buffer follow different code.
    return {"momentum": values["momentum"] != 0 or cycled, "nesterov": values["nesterov"]}


def check(values: dict[str, Any], field: str) -> None:
    if values["nesterov"]:
        require(
            values["momentum"] > 0 and values["dampening"] == 0,
            f"{field}.nesterov",
            "Nesterov momentum needs momentum > 0 and dampening 0",
        )


def equation(lr: str, v) -> list[str]:
    lines = l2_line(v)
    if v["momentum"] == 0:
        return [*lines, rf"\theta &\leftarrow \theta - {lr}\,g"]
    kept = "g" if v["dampening"] == 0 else rf"{tex(1 - v['dampening'])}\,g"
    lines.append(rf"b &\leftarrow {tex(v['momentum'])}\,b + {kept}")
    if v["nesterov"]:
        return [*lines, rf"\theta &\leftarrow \theta - {lr}\,(g + {tex(v['momentum'])}\,b)"]
    return [*lines, rf"\theta &\leftarrow \theta - {lr}\,b"]


def make(name: str, title: str, momentum: float, nesterov: bool, help: str) -> OptimizerSpec:
    params = (
        *common_params(momentum=momentum),
        Param(
            "dampening",
            0.0,
            low=0.0,
            high=1.0,
            help="scales down the gradient added to the velocity",
        ),
        Param(
            "nesterov",
            nesterov,
            kind="bool",
            help="look ahead: take the gradient's step from the momentum point",
        ),
        *common_params(weight_decay=0.0),
    )
    return OptimizerSpec(
        name=name,
        title=title,
        params=params,
        default_lr=1e-3,
        init=init,
        step=step,
        flags=flags,
        prepare=prepare,
        group_key=group_key,
        family="sgd",
        mixable=("momentum", "nesterov"),
        check=check,
        cycles="momentum",
        torch_name="SGD",
        equation=equation,
        help=help,
    )


SGD = make("sgd", "SGD", 0.0, False, "Plain gradient descent: step against the gradient.")
MOMENTUM = make(
    "momentum", "Momentum", 0.9, False, "SGD with a heavy-ball velocity (torch SGD, momentum 0.9)."
)
NESTEROV = make(
    "nesterov",
    "Nesterov",
    0.9,
    True,
    "SGD with Nesterov's look-ahead momentum (torch SGD, nesterov).",
)
