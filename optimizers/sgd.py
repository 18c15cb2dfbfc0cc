"""SGD with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD; plus presets."""

from __future__ import annotations

from typing import Any

from common.jit import inlined
from common.params import Param
from optimizers import oracle
from optimizers.base import (
    Card,
    Export,
    Kernel,
    Limits,
    OptimizerSpec,
    common_params,
    hyper_layout,
    l2_line,
    require,
    state_slots,
    tex,
)


def params(momentum: float, nesterov: bool) -> tuple[Param, ...]:
    return (
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


MOMENTUM_, DAMPENING, NESTEROV_, WEIGHT_DECAY = hyper_layout(params(0.0, False))
# State: the velocity, then whether it has been started (torch's ``momentum_buffer is None``).
STATE = ("buf",)
SCALARS = ("started",)
BUF, STARTED = state_slots(STATE, SCALARS, "buf", "started")


@inlined
def step(o, w, s, h, lr, cyc, t):
    """torch.optim.sgd._single_tensor_sgd for one run; ``cyc`` is the (cycled) momentum."""
    mom, wd = cyc, h[WEIGHT_DECAY]
    gx, gy = oracle.gradient(o, w[0], w[1])
    for i in range(2):
        gi = gx if i == 0 else gy
        if wd != 0:
            gi = gi + wd * w[i]
        if mom != 0:
            if s[STARTED] == 0:
                # torch starts the buffer as a copy of the first gradient, without dampening.
                s[BUF + i] = gi
            else:
                s[BUF + i] = s[BUF + i] * mom + (1 - h[DAMPENING]) * gi
            if h[NESTEROV_] != 0:
                gi = gi + mom * s[BUF + i]
            else:
                gi = s[BUF + i]
        w[i] = w[i] + (-lr) * gi
    if mom != 0:
        s[STARTED] = 1.0
    return w[0], w[1]


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
    return OptimizerSpec(
        name=name,
        params=params(momentum, nesterov),
        kernel=Kernel(step=step, state=STATE, scalars=SCALARS, cycles="momentum"),
        card=Card(title=title, default_lr=1e-3, equation=equation, help=help),
        limits=Limits(check=check, sam=True),
        export=Export(torch_name="SGD"),
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
