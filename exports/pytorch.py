"""Copy as PyTorch: one racer's run written out as a plain ``torch.optim`` training loop.

The race claims to step like torch.optim. This module lets a student check that claim and
take the run further: paste the text into Python with torch and NumPy, run it, and ``path``
holds the racer's points x_0 … x_N, equal to the race's up to rounding (autograd and torch's
fused kernels round the last bit differently; tests/test_pytorch_snippet.py measures it).

The text uses the real optimizer and scheduler classes with every hyper-parameter spelled
out, the surface as a torch expression taken from the surface registry (autograd supplies the
gradient), ``clip_grad_norm_`` for clipping, the race's noise drawn exactly as
``optimizers.engine.common_noise`` draws it, and sharpness-aware steps (SAM, ASAM) written
out as the two passes the source's SAM makes around any torch optimizer. Numbers are
written with ``repr`` so that each reads back as the same float. Settings torch cannot
express raise ``ValueError`` with a message meant for the page.
"""

from __future__ import annotations

import ast
import itertools
import json
from typing import Any

from optimizers.config import RaceConfig, RacerConfig
from optimizers.race import default_label
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES, one_cycle_phases
from surfaces import get_surface

WIDTH = 100  # longest line written, as in the project's own code
JOIN = 60  # a wrapped expression's short pieces share a line up to this length
INDENT = "    "
FUNCTIONS = ("cos", "exp", "sin", "sqrt")  # taken from torch; pi and e come from math

Kwargs = dict[str, Any]


def pytorch_snippet(config: RaceConfig, index: int) -> str:
    """Python source that reruns racer ``index`` of ``config`` with torch.optim (the curvature
    racers, ``CURVATURE``, as exports/pytorch_loops.py writes them; the package racers,
    ``PACKAGES``, through their packages, as exports/pytorch_packages.py writes them).

    Raises ValueError, with a message for the page, when torch cannot express the racer's
    settings (an optimizer torch.optim lacks, Adam without bias correction, a OneCycleLR that
    torch cannot build), and IndexError when ``index`` names no racer.
    """
    if not 0 <= index < len(config.racers):
        raise IndexError(f"racer {index} does not exist: the race has {len(config.racers)}")
    racer = config.racers[index]
    if racer.optimizer in CURVATURE:
        # Imported here: that module writes its loops with this module's text helpers.
        from exports.pytorch_loops import curvature_snippet

        return curvature_snippet(config, index)
    if racer.optimizer in PACKAGES:
        from exports.pytorch_packages import package_snippet

        return package_snippet(config, index)
    _refuse_what_torch_lacks(racer, config.steps)
    torch_name = OPTIMIZERS[racer.optimizer].export.torch_name
    surface = get_surface(config.surface.name, **config.surface.params)
    steps, noise = config.steps, config.noise
    noisy = noise.std != 0
    scheduler, factor = _scheduler(racer, steps)
    hold = _one_cycle_end(racer.schedule.name, racer.schedule.params, steps)
    start = ", ".join(repr(float(v)) for v in config.start)

    label = racer.label if racer.label and racer.label.isprintable() else default_label(racer)
    lines = [
        f'# Optimizer Race, racer {index + 1}: "{label}"',
        f"# on {surface.title} for {steps} steps, as a plain torch.optim loop.",
        f"# `path` collects the points x_0 ... x_{steps}, the same path as in the race.",
        *_imports(_names(surface.expression), math=bool(factor), numpy=noisy),
        "",
        "# float64 throughout, as in the race: tensors and the optimizers' inner scalars alike.",
        "torch.set_default_dtype(torch.float64)",
        "",
        "",
        "def f(x, y):",
        f'{INDENT}"""{surface.title}; autograd takes its gradient."""',
        *_return(surface.expression),
        "",
        "",
        *factor,
        f"xy = torch.tensor([{start}], requires_grad=True)  # the point (x, y)",
        *_call("optimizer", f"torch.optim.{torch_name}", ["[xy]"], _optimizer_kwargs(racer)),
        *scheduler,
    ]
    if noisy:
        draws = f"np.random.default_rng({noise.seed!r}).standard_normal(({steps!r}, 2))"
        lines += [
            f"# The race's gradient noise (σ = {noise.std!r}, seed {noise.seed!r}), the same "
            "for every racer.",
            f"noise = torch.from_numpy({noise.std!r} * {draws})",
        ]
    lines += [
        "",
        "path = [tuple(xy.tolist())]",
        f"for {'t' if noisy or hold else '_'} in range({steps!r}):",
        f"{INDENT}optimizer.zero_grad()",
        f"{INDENT}f(xy[0], xy[1]).backward()",
    ]
    if noisy:
        lines.append(f"{INDENT}xy.grad += noise[t]")
    if racer.sam_rho is not None:
        lines += _sam_lines(racer, noisy)
    if racer.clip_norm is not None:
        lines.append(f"{INDENT}torch.nn.utils.clip_grad_norm_([xy], max_norm={racer.clip_norm!r})")
    lines.append(f"{INDENT}optimizer.step()")
    if hold:
        lines += [
            f"{INDENT}if t + 1 < {hold!r}:  # OneCycleLR ends here; the race keeps its last rate",
            f"{INDENT * 2}scheduler.step()",
        ]
    elif scheduler:
        lines.append(f"{INDENT}scheduler.step()")
    lines += [
        f"{INDENT}path.append(tuple(xy.tolist()))",
        "",
        'print("final point:", path[-1])',
    ]
    return "\n".join(lines) + "\n"


def _sam_lines(racer: RacerConfig, noisy: bool) -> list[str]:
    """SAM's second pass (Foret et al.; ASAM, Kwon et al., when adaptive): move to xy + e,
    take the gradient there on the same batch (the same noise), move back by e, so the
    optimizer steps from xy with the gradient at xy + e."""
    rho = repr(racer.sam_rho)
    if racer.sam_adaptive:
        about = f"ASAM (ρ = {rho}): e = ρ·xy²·g / (‖|xy|·g‖ + 1e-12)"
        e = f"xy.pow(2) * xy.grad * ({rho} / ((xy.abs() * xy.grad).norm() + 1e-12))"
    else:
        about = f"SAM (ρ = {rho}): e = ρ·g / (‖g‖ + 1e-12)"
        e = f"xy.grad * ({rho} / (xy.grad.norm() + 1e-12))"
    lines = [
        f"{INDENT}# {about}; the step uses the gradient at xy + e.",
        f"{INDENT}with torch.no_grad():",
        f"{INDENT * 2}e = {e}",
        f"{INDENT * 2}xy.add_(e)",
        f"{INDENT}optimizer.zero_grad()",
        f"{INDENT}f(xy[0], xy[1]).backward()",
    ]
    if noisy:
        lines.append(f"{INDENT}xy.grad += noise[t]  # the same batch: the same noise")
    return [*lines, f"{INDENT}with torch.no_grad():", f"{INDENT * 2}xy.sub_(e)"]


# Racers written as their own torch loops (exports/pytorch_loops.py): L-BFGS's closure, and
# methods torch.optim lacks written with torch.func and torch.linalg.
CURVATURE = ("lbfgs", "newton", "gd_line_search", "gauss_newton")
# Racers written through the packages they are tested against (exports/pytorch_packages.py).
PACKAGES = (
    "schedule_free_sgd",
    "schedule_free_adamw",
    "prodigy",
    "lamb",
    "lars",
    "shampoo",
    "sophia",
)


def _refuse_what_torch_lacks(racer: RacerConfig, steps: int) -> None:
    spec = OPTIMIZERS[racer.optimizer]
    torch_name = spec.export.torch_name
    if torch_name is None:
        raise ValueError(
            f"{spec.card.title} is not in torch.optim: this racer has no PyTorch copy."
        )
    if racer.params.get("bias_correction") is False:
        raise ValueError(
            f"torch.optim.{torch_name} always corrects the moments' bias: turn bias "
            "correction on to copy this racer as PyTorch."
        )
    schedule = racer.schedule
    if schedule.name not in _SCHEDULERS:
        title = SCHEDULES[schedule.name].title
        raise ValueError(f"The {title} schedule has no torch.optim copy yet.")
    if schedule.name == "one_cycle":
        p = schedule.params
        if one_cycle_phases(p, steps)[1][0][0] == 0:
            raise ValueError(
                "torch's OneCycleLR divides by zero when pct_start × total_steps = 1 (its first "
                "phase has no length): change either to copy this racer as PyTorch."
            )


def _optimizer_kwargs(racer: RacerConfig) -> Kwargs:
    """lr and every hyper-parameter under its torch name (torch always corrects bias)."""
    params = {k: v for k, v in racer.params.items() if k != "bias_correction"}
    return {"lr": racer.lr, **params}


# Each schedule as (torch.optim.lr_scheduler class, its arguments after the optimizer), from
# (racer, schedule params, race steps); tests/torch_reference.py's build_scheduler is the
# same mapping as the conformance tests use it.


def _cycled(racer: RacerConfig, p: Kwargs) -> Kwargs:
    # The race cycles momentum only for optimizers that have one; torch would refuse the rest.
    if not (p["cycle_momentum"] and OPTIMIZERS[racer.optimizer].kernel.cycles):
        return {"cycle_momentum": False}
    return {
        "cycle_momentum": True,
        "base_momentum": p["base_momentum"],
        "max_momentum": p["max_momentum"],
    }


def _one_cycle(racer: RacerConfig, p: Kwargs, steps: int) -> tuple[str, Kwargs]:
    names = ("pct_start", "anneal_strategy", "div_factor", "final_div_factor", "three_phase")
    return "OneCycleLR", {
        "max_lr": racer.lr,
        "total_steps": p["total_steps"] or steps,
        **{name: p[name] for name in names},
        **_cycled(racer, p),
    }


def _cyclic(racer: RacerConfig, p: Kwargs, steps: int) -> tuple[str, Kwargs]:
    kwargs = {
        "base_lr": racer.lr / 10 if p["base_lr"] is None else p["base_lr"],
        "max_lr": racer.lr,
        "step_size_up": p["step_size_up"],
    }
    if p["step_size_down"] is not None:
        kwargs["step_size_down"] = p["step_size_down"]
    kwargs["mode"] = p["mode"]
    if p["mode"] == "exp_range":
        kwargs["gamma"] = p["gamma"]
    return "CyclicLR", {**kwargs, **_cycled(racer, p)}


_SCHEDULERS = {
    "constant": lambda r, p, steps: None,
    "step": lambda r, p, steps: ("StepLR", {"step_size": p["step_size"], "gamma": p["gamma"]}),
    "exponential": lambda r, p, steps: ("ExponentialLR", {"gamma": p["gamma"]}),
    "cosine": lambda r, p, steps: (
        "CosineAnnealingLR",
        {"T_max": p["t_max"] or steps, "eta_min": p["eta_min"]},
    ),
    "warmup_cosine": lambda r, p, steps: ("LambdaLR", {}),
    "one_cycle": _one_cycle,
    "cyclic": _cyclic,
    "cosine_restarts": lambda r, p, steps: (
        "CosineAnnealingWarmRestarts",
        {"T_0": p["t_0"], "T_mult": p["t_mult"], "eta_min": p["eta_min"]},
    ),
}


def _scheduler(racer: RacerConfig, steps: int) -> tuple[list[str], list[str]]:
    """(lines that build the scheduler, lines of its factor function if it has one)."""
    name, p = racer.schedule.name, racer.schedule.params
    made = _SCHEDULERS[name](racer, p, steps)
    if made is None:
        return [], []
    cls, kwargs = made
    factor, args = [], ["optimizer"]
    if name == "warmup_cosine":
        factor, args = _warmup_factor(racer, p, steps), ["optimizer", "warmup_cosine"]
    return _call("scheduler", f"torch.optim.lr_scheduler.{cls}", args, kwargs), factor


def _one_cycle_end(name: str, p: Kwargs, steps: int) -> int | None:
    """total_steps if the loop must stop stepping a OneCycleLR there, else None.

    Past total_steps OneCycleLR refuses to step, and the step after its last divides by zero
    when the last phase has no length; the race holds the last rate instead.
    """
    if name != "one_cycle":
        return None
    total, phases = one_cycle_phases(p, steps)
    ends = [end for end, _, _ in phases]
    return total if total < steps or (total == steps and ends[-1] == ends[-2]) else None


def _warmup_factor(racer: RacerConfig, p: Kwargs, steps: int) -> list[str]:
    """LambdaLR's factor for warmup_cosine (optimizers.schedules), numbers written in."""
    total, warmup, floor, lr = p["total_steps"] or steps, p["warmup_steps"], p["min_lr"], racer.lr
    cosine = "(1 + math.cos(math.pi * progress))"
    falling = f"0.5 * {cosine}"
    if floor != 0:
        falling = f"({floor!r} + 0.5 * ({lr!r} - {floor!r}) * {cosine}) / {lr!r}"
    rise = f"up over {warmup!r} steps, then" if warmup else "from step 0"
    about = f"Factor on lr at step t: {rise} a cosine down to {floor!r} at step {total!r}."
    lines = ["def warmup_cosine(t):", f'{INDENT}"""{about}"""']
    if warmup:
        lines += [f"{INDENT}if t < {warmup!r}:", f"{INDENT * 2}return t / {warmup!r}"]
    return [
        *lines,
        f"{INDENT}progress = min(1.0, (t - {warmup!r}) / {max(total - warmup, 1)!r})",
        f"{INDENT}return {falling}",
        "",
        "",
    ]


def _names(expression: str) -> set[str]:
    """The names a registry expression uses besides x and y (parsed, never evaluated)."""
    tree = ast.parse(expression, mode="eval")
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - {"x", "y"}


def _imports(names: set[str], math: bool, numpy: bool) -> list[str]:
    """Only the imports the snippet uses, grouped and ordered as isort would."""
    standard = ["import math"] if math else []
    constants = sorted(names - set(FUNCTIONS))
    if constants:
        standard.append(f"from math import {', '.join(constants)}")
    third = [*(["import numpy as np"] if numpy else []), "import torch"]
    functions = sorted(names & set(FUNCTIONS))
    if functions:
        third.append(f"from torch import {', '.join(functions)}")
    return [*standard, *([""] if standard else []), *third]


def _literal(value: Any) -> str:
    """Python source for a validated value: repr, tuples for pairs, double-quoted text."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return repr(tuple(value))
    return repr(value)


def _call(target: str, callee: str, args: list[str], kwargs: Kwargs) -> list[str]:
    """``target = callee(...)`` on one line, or one argument a line when that is too long."""
    parts = [*args, *(f"{k}={_literal(v)}" for k, v in kwargs.items())]
    line = f"{target} = {callee}({', '.join(parts)})"
    if len(line) <= WIDTH:
        return [line]
    return [f"{target} = {callee}(", *(f"{INDENT}{part}," for part in parts), ")"]


def _return(expression: str) -> list[str]:
    """``return expression``, wrapped in parentheses at operators if it is too long."""
    line = f"{INDENT}return {expression}"
    if len(line) <= WIDTH:
        return [line]
    pieces = _split(expression, WIDTH - 2 * len(INDENT))
    return [f"{INDENT}return (", *(f"{INDENT * 2}{piece}" for piece in pieces), f"{INDENT})"]


def _split(expression: str, width: int) -> list[str]:
    """Break before binary operators: outermost first, and + or - before * or /.

    Every break replaces a space inside the parentheses that ``_return`` adds, so the text
    means the same wherever it breaks; the choice of spaces is only about reading.
    """
    depth, cuts = 0, {}
    for i, char in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(char, 0)
        follow = expression[i + 1 : i + 3]
        if char == " " and follow in ("+ ", "- ", "* ", "/ "):
            cuts.setdefault((depth, follow[0] in "*/"), []).append(i)
    fallback = None
    for key in sorted(cuts):
        bounds = [-1, *cuts[key], len(expression)]
        parts = [expression[a + 1 : b] for a, b in itertools.pairwise(bounds)]
        pieces = [parts[0]]
        for part in parts[1:]:
            if len(pieces[-1]) + 1 + len(part) <= JOIN:
                pieces[-1] += " " + part
            else:
                pieces.append(part)
        if all(len(piece) <= width for piece in pieces):
            return pieces
        fallback = fallback or pieces
    return fallback or [expression]
