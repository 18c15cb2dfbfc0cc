"""A racer's update rule as MathJax markdown, with its own hyper-parameter values filled in.

The rule's lines come from the optimizer's registry entry; the parts every optimizer shares
(the gradient, noise, sharpness-aware steps, clipping, a scheduled rate) are added here once.
"""

from __future__ import annotations

from typing import Any

from optimizers.base import tex
from optimizers.engine import CLIP_EPS
from optimizers.oracle import SAM_EPS
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES


def update_rule(racer: dict[str, Any], noisy: bool = False) -> str:
    """``racer`` is a validated racer's JSON form (every parameter present)."""
    spec = OPTIMIZERS[racer["optimizer"]]
    schedule = racer.get("schedule") or {"name": "constant"}
    scheduled = schedule["name"] != "constant"
    lr = r"\eta_t" if scheduled else tex(racer["lr"])
    xi = r" + \xi_t" if noisy else ""
    lines = [r"g &= \nabla f(\theta)" + xi, *_sam_lines(racer, xi)]
    clip = racer.get("clip_norm")
    if clip is not None:
        lines.append(
            rf"g &\leftarrow g\cdot\min\!\left(1, \frac{{{tex(clip)}}}"
            rf"{{\lVert g\rVert + {tex(CLIP_EPS)}}}\right)"
        )
    lines += spec.card.equation(lr, racer["params"])
    text = "$$\n\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}\n$$"
    if scheduled:
        title = SCHEDULES[schedule["name"]].title.lower()
        text += f"\n\n$\\eta_t$: {title} schedule from $\\eta = {tex(racer['lr'])}$"
    if noisy:
        text += "\n\n$\\xi_t$: the race's gradient noise"
        if racer.get("sam_rho") is not None:
            text += " (one sample a step: both gradients get it)"
    return text


def _sam_lines(racer: dict[str, Any], xi: str) -> list[str]:
    """SAM's perturbation and its second gradient, the one the optimizer steps with."""
    rho = racer.get("sam_rho")
    if rho is None:
        return []
    eps = tex(SAM_EPS)
    if racer.get("sam_adaptive"):
        e = (
            rf"e &= {tex(rho)}\,\frac{{\theta^2\odot g}}"
            rf"{{\lVert\,|\theta|\odot g\rVert + {eps}}}"
        )
    else:
        e = rf"e &= {tex(rho)}\,\frac{{g}}{{\lVert g\rVert + {eps}}}"
    return [e, r"g &\leftarrow \nabla f(\theta + e)" + xi]
