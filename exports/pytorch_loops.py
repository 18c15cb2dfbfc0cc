"""Copy as PyTorch for the curvature racers: L-BFGS as torch.optim.LBFGS with a closure, and
Newton, GD + line search and Gauss–Newton as short torch loops (torch.func.hessian,
torch.func.jacrev, torch.linalg.solve, torch's own ``_strong_wolfe``).

Each loop follows its kernel's module step by step (optimizers/newton.py, gd_line_search.py,
gauss_newton.py, with their constants written in), so ``path`` retraces the race to rounding
(tests/test_pytorch_snippet.py). These racers are written without noise, clipping or a
schedule: a racer with any of them is refused with a message for the page.
"""

from __future__ import annotations

from exports.pytorch import INDENT, _call, _imports, _names, _return
from optimizers import gauss_newton, gd_line_search, newton
from optimizers.config import RaceConfig, RacerConfig
from optimizers.race import default_label
from optimizers.registry import OPTIMIZERS
from surfaces import get_surface
from surfaces.base import Surface

I2, I3 = INDENT * 2, INDENT * 3

SOLVE = [
    "def solve(m, b):",
    f'{INDENT}"""m⁻¹b, or b itself where m is singular (|det m| ≤ {newton.SINGULAR!r}·max|m|²):',
    f'{INDENT}the race\'s one fallback."""',
    f"{INDENT}if not torch.linalg.det(m).abs() > {newton.SINGULAR!r} * m.abs().max() ** 2:",
    f"{I2}return b",
    f"{INDENT}return torch.linalg.solve(m, b)",
    "",
    "",
]
LOSS = ["def loss(p):", f"{INDENT}return f(p[0], p[1])", "", ""]


def _newton(racer: RacerConfig, surface: Surface) -> tuple[list[str], list[str]]:
    p = racer.params
    matrix = f"h + {p['damping']!r} * torch.eye(2)" if p["damping"] else "h"
    body = [
        f"{INDENT}g = torch.func.grad(loss)(p)",
        f"{INDENT}h = torch.func.hessian(loss)(p)",
    ]
    if p["mode"] == "saddle_free":
        body += [
            f"{INDENT}values, vectors = torch.linalg.eigh(h)  # saddle-free: |H| = V|Λ|Vᵀ",
            f"{INDENT}h = vectors @ torch.diag(values.abs()) @ vectors.T",
        ]
    body += [
        f"{INDENT}p = p - {racer.lr!r} * solve({matrix}, g)",
    ]
    return [*SOLVE, *LOSS], body


def _residuals(surface: Surface) -> list[str]:
    lines = [f"{I2}{r}," for r in surface.residuals]
    return [
        "def residuals(p):",
        f'{INDENT}"""The residuals r, with f = ½‖r‖²."""',
        f"{INDENT}x, y = p[0], p[1]",
        f"{INDENT}return torch.stack([",
        *lines,
        f"{INDENT}])",
        "",
        "",
    ]


def _gauss_newton(racer: RacerConfig, surface: Surface) -> tuple[list[str], list[str]]:
    p = racer.params
    scale = "torch.diag(torch.diag(jtj))" if p["scaling"] == "diagonal" else "torch.eye(2)"
    body = [
        f"{INDENT}r, jac = residuals(p), torch.func.jacrev(residuals)(p)",
        f"{INDENT}jtj, g = jac.T @ jac, jac.T @ r",
        f"{INDENT}scale = {scale}",
    ]
    if not p["adaptive"]:
        body.append(f"{INDENT}p = p + solve(jtj + damping * scale, -g)")
    else:
        body += [
            f"{INDENT}if g.abs().max() > 0:  # else a stationary point: nothing to try",
            f"{I2}here = loss(p)",
            f"{I2}for _ in range({gauss_newton.TRIALS!r}):  # trials a step",
            f"{I3}d = solve(jtj + damping * scale, -g)",
            f"{I3}if loss(p + d) < here:  # accepted: shrink the damping",
            f"{I3}{INDENT}p = p + d",
            f"{I3}{INDENT}damping = {gauss_newton.SHRINK!r} * damping",
            f"{I3}{INDENT}break",
            f"{I3}# rejected: grow the damping",
            f"{I3}damping = max({gauss_newton.GROW!r} * damping, {gauss_newton.FLOOR!r})",
            f"{I3}damping = min(damping, {gauss_newton.CEILING!r})",
        ]
    setup = [*SOLVE, *LOSS, *_residuals(surface), f"damping = {p['damping']!r}"]
    return setup, body


def _gd_line_search(racer: RacerConfig, surface: Surface) -> tuple[list[str], list[str]]:
    p = racer.params
    value_and_grad = [
        "def value_and_grad(p):",
        f"{INDENT}p = p.detach().requires_grad_()",
        f"{INDENT}value = f(p[0], p[1])",
        f"{INDENT}(g,) = torch.autograd.grad(value, p)",
        f"{INDENT}return float(value.detach()), g",
        "",
        "",
    ]
    body = [
        f"{INDENT}value, g = value_and_grad(p)",
        f"{INDENT}d = -g",
        f"{INDENT}gtd = g.dot(d)",
        f"{INDENT}if gtd < 0:  # else a zero gradient: nothing to search",
        f"{I2}t = {racer.lr!r} * {p['alpha0']!r}",
    ]
    if p["search"] == "armijo":
        body += [
            f"{I2}for _ in range({gd_line_search.TRIALS!r}):  # Armijo's backtracking",
            f"{I3}if float(f(*p.add(d, alpha=t))) <= value + {p['c1']!r} * t * float(gtd):",
            f"{I3}{INDENT}break",
            f"{I3}t = t * {p['shrink']!r}",
            f"{I2}else:  # no trial passed: stay",
            f"{I3}t = 0.0",
        ]
        setup = value_and_grad
    else:
        body += [
            f"{I2}_, _, t, _ = _strong_wolfe(",
            f"{I3}along, p, t, d, value, g, gtd, c1={p['c1']!r}, c2={p['c2']!r}, "
            f"max_ls={gd_line_search.MAX_LS!r}",
            f"{I2})",
        ]
        setup = [
            *value_and_grad,
            "def along(x, t, d):",
            f'{INDENT}"""f and ∇f at x + t·d, what torch\'s line search evaluates."""',
            f"{INDENT}return value_and_grad(x.add(d, alpha=t))",
            "",
            "",
        ]
    body.append(f"{I2}p = p.add(d, alpha=t)")
    return setup, body


LOOPS = {"newton": _newton, "gauss_newton": _gauss_newton, "gd_line_search": _gd_line_search}
WHAT = {
    "lbfgs": "torch.optim.LBFGS with a closure, one step(closure) per race step",
    "newton": "a torch.func.hessian and torch.linalg.solve loop",
    "gauss_newton": "a torch.func.jacrev and torch.linalg.solve loop",
    "gd_line_search": "a torch loop with its line search",
}


def refuse(racer: RacerConfig) -> None:
    """ValueError, for the page, where this module cannot write the racer."""
    title = OPTIMIZERS[racer.optimizer].card.title
    if racer.clip_norm is not None or racer.schedule.name != "constant":
        raise ValueError(
            f"Copy as PyTorch writes {title} without clipping or a schedule: remove them to "
            "copy this racer."
        )


def refuse_noise(config: RaceConfig, racer: RacerConfig) -> None:
    """ValueError, for the page, when the race adds gradient noise this module cannot write."""
    if config.noise.std != 0:
        title = OPTIMIZERS[racer.optimizer].card.title
        raise ValueError(
            f"Copy as PyTorch writes {title} without gradient noise: set σ to 0 to copy it."
        )


def preamble(config: RaceConfig, index: int, what: str, imports: list[str]) -> list[str]:
    """A loop's first lines: what it reruns (``what``: how), its imports, float64 and f."""
    racer = config.racers[index]
    surface = get_surface(config.surface.name, **config.surface.params)
    steps = config.steps
    label = racer.label if racer.label and racer.label.isprintable() else default_label(racer)
    return [
        f'# Optimizer Race, racer {index + 1}: "{label}"',
        f"# on {surface.title} for {steps} steps, as {what}.",
        f"# `path` collects the points x_0 ... x_{steps}, the same path as in the race.",
        *imports,
        "",
        "# float64 throughout, as in the race.",
        "torch.set_default_dtype(torch.float64)",
        "",
        "",
        "def f(x, y):",
        f'{INDENT}"""{surface.title}; autograd takes its derivatives."""',
        *_return(surface.expression),
        "",
        "",
    ]


def curvature_snippet(config: RaceConfig, index: int) -> str:
    """Python source that reruns racer ``index`` (a curvature racer) with torch."""
    racer = config.racers[index]
    refuse(racer)
    refuse_noise(config, racer)
    surface = get_surface(config.surface.name, **config.surface.params)
    steps = config.steps
    start = ", ".join(repr(float(v)) for v in config.start)
    wolfe = racer.optimizer == "gd_line_search" and racer.params["search"] == "strong_wolfe"
    imports = _imports(_names(surface.expression), math=False, numpy=False)
    if wolfe:
        imports.append("from torch.optim.lbfgs import _strong_wolfe")
    lines = preamble(config, index, WHAT[racer.optimizer], imports)
    if racer.optimizer == "lbfgs":
        lines += _lbfgs(racer, start, steps)
    else:
        setup, body = LOOPS[racer.optimizer](racer, surface)
        lines += [
            *setup,
            f"p = torch.tensor([{start}])  # the point (x, y)",
            "path = [tuple(p.tolist())]",
            f"for _ in range({steps!r}):",
            *body,
            f"{INDENT}path.append(tuple(p.tolist()))",
        ]
    lines += ["", 'print("final point:", path[-1])']
    return "\n".join(lines) + "\n"


def _lbfgs(racer: RacerConfig, start: str, steps: int) -> list[str]:
    p = dict(racer.params)
    search = p.pop("line_search_fn")
    kwargs = {
        "lr": racer.lr,
        "max_iter": 1,
        **p,
        "line_search_fn": None if search == "none" else search,
    }
    return [
        f"xy = torch.tensor([{start}], requires_grad=True)  # the point (x, y)",
        *_call("optimizer", "torch.optim.LBFGS", ["[xy]"], kwargs),
        "",
        "",
        "def closure():",
        f"{INDENT}optimizer.zero_grad()",
        f"{INDENT}value = f(xy[0], xy[1])",
        f"{INDENT}value.backward()",
        f"{INDENT}return value",
        "",
        "",
        "path = [tuple(xy.tolist())]",
        f"for _ in range({steps!r}):",
        f"{INDENT}optimizer.step(closure)",
        f"{INDENT}path.append(tuple(xy.tolist()))",
    ]
