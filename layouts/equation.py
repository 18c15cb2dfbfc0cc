"""A racer's update rule as MathJax markdown, with its own hyper-parameter values filled in.

The rule's lines come from the optimizer's registry entry; the parts every optimizer shares
(the gradient, noise, clipping, a scheduled rate) are added here once.
"""

from __future__ import annotations

from typing import Any

from optimizers.base import tex
from optimizers.engine import CLIP_EPS
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES


def update_rule(racer: dict[str, Any], noisy: bool = False) -> str:
    """``racer`` is a validated racer's JSON form (every parameter present)."""
    spec = OPTIMIZERS[racer["optimizer"]]
    schedule = racer.get("schedule") or {"name": "constant"}
    scheduled = schedule["name"] != "constant"
    lr = r"\eta_t" if scheduled else tex(racer["lr"])
    gradient = r"g &= \nabla f(\theta)" + (r" + \xi_t" if noisy else "")
    lines = [gradient]
    clip = racer.get("clip_norm")
    if clip is not None:
        lines.append(
            rf"g &\leftarrow g\cdot\min\!\left(1, \frac{{{tex(clip)}}}"
            rf"{{\lVert g\rVert + {tex(CLIP_EPS)}}}\right)"
        )
    lines += spec.equation(lr, racer["params"])
    text = "$$\n\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}\n$$"
    if scheduled:
        title = SCHEDULES[schedule["name"]].title.lower()
        text += f"\n\n$\\eta_t$: {title} schedule from $\\eta = {tex(racer['lr'])}$"
    if noisy:
        text += "\n\n$\\xi_t$: the race's gradient noise"
    return text
