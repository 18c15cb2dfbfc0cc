"""Weight decay as pytorch-optimizer's ``BaseOptimizer.apply_weight_decay`` applies it (Lamb,
Shampoo, SophiaH): decoupled, θ ← (1 − λ·lr)·θ (or 1 − λ with ``fixed_decay``), or coupled,
g ← g + λθ (torch's fused add)."""

from __future__ import annotations

from common.jit import inlined
from common.params import Param
from optimizers import oracle
from optimizers.base import common_params, decay_lines, tex


def params(decouple: bool) -> tuple[Param, ...]:
    """weight_decay, weight_decouple (its default per optimizer) and fixed_decay."""
    return (
        *common_params(weight_decay=0.0),
        Param(
            "weight_decouple",
            decouple,
            kind="bool",
            help="shrink the weights directly (AdamW style) instead of adding λθ to the gradient",
        ),
        Param("fixed_decay", False, kind="bool", help="decoupled decay by λ a step, not lr·λ"),
    )


@inlined
def apply(w, gx, gy, wd, decouple, fixed, lr):
    """Decay the point in place (decoupled) or the gradient (coupled); returns the gradient."""
    if wd != 0:
        if decouple != 0:
            shrink = 1.0 - wd * (1.0 if fixed != 0 else lr)
            w[0], w[1] = w[0] * shrink, w[1] * shrink
        else:
            gx = oracle.fma(wd, w[0], gx)
            gy = oracle.fma(wd, w[1], gy)
    return gx, gy


def lines(lr: str, v) -> list[str]:
    """The decay as equation lines (none when λ is 0)."""
    wd = v["weight_decay"]
    if wd and v["weight_decouple"] and v["fixed_decay"]:
        return [rf"\theta &\leftarrow (1 - {tex(wd)})\,\theta"]
    return decay_lines(lr, v, v["weight_decouple"])
