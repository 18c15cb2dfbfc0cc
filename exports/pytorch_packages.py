"""Copy as PyTorch for issue 18's package racers: Schedule-Free SGD and AdamW (schedulefree
1.4.1), Prodigy (prodigyopt 1.1.2), LAMB, LARS, Shampoo and Sophia (pytorch-optimizer 4.1.0).

torch.optim has none of them, so each snippet imports the package the racer was tested
against (tests/test_conformance_packages.py) and drives it as that test does: Schedule-Free
in ``train()`` mode with the drawn point x read from y and z after each step (what eval mode
would put in the parameters), LARS's point as a (1, 2) weight (the package scales only
tensors of more than one dimension), and Sophia's Hessian diagonal (exact, or z ⊙ Hz for the
race's seeded probe z) handed to ``step(hessian=…)`` on its update steps. Autograd supplies
the gradient and ``torch.func.hessian`` the Hessian, so ``path`` retraces the race to
rounding (tests/test_pytorch_snippet.py). Written without noise, clipping or a schedule, as
the curvature racers: a racer with any of them is refused with a message for the page.
"""

from __future__ import annotations

from exports.pytorch import INDENT, _call, _imports, _names
from exports.pytorch_loops import LOSS, preamble, refuse, refuse_noise
from optimizers.config import RaceConfig, RacerConfig
from optimizers.sophia import SEED_STRIDE
from surfaces import get_surface

I2 = INDENT * 2

# Each racer: (its import, the class as the snippet calls it, "package version").
PACKAGES = {
    "schedule_free_sgd": (
        "import schedulefree",
        "schedulefree.SGDScheduleFree",
        "schedulefree 1.4.1",
    ),
    "schedule_free_adamw": (
        "import schedulefree",
        "schedulefree.AdamWScheduleFree",
        "schedulefree 1.4.1",
    ),
    "prodigy": ("from prodigyopt import Prodigy", "Prodigy", "prodigyopt 1.1.2"),
    "lamb": ("from pytorch_optimizer import Lamb", "Lamb", "pytorch-optimizer 4.1.0"),
    "lars": ("from pytorch_optimizer import LARS", "LARS", "pytorch-optimizer 4.1.0"),
    "shampoo": ("from pytorch_optimizer import Shampoo", "Shampoo", "pytorch-optimizer 4.1.0"),
    "sophia": ("from pytorch_optimizer import SophiaH", "SophiaH", "pytorch-optimizer 4.1.0"),
}
# Sophia's settings that are the race's, not the package's: how the diagonal is estimated.
SOPHIA_OWN = ("estimator", "hessian_distribution", "seed")


def _kwargs(racer: RacerConfig) -> dict:
    """lr and the hyper-parameters under the package's names; Prodigy's empty ones (beta3,
    growth_rate) are left to the package's defaults, as the race reads them."""
    params = {k: v for k, v in racer.params.items() if v is not None}
    if racer.optimizer == "sophia":
        params = {k: v for k, v in params.items() if k not in SOPHIA_OWN}
    return {"lr": racer.lr, **params}


def _imports_for(racer: RacerConfig, expression: str) -> list[str]:
    """The surface's imports with the package's line where isort puts it: ``import
    schedulefree`` before ``import torch``, ``from prodigyopt``/``from pytorch_optimizer``
    after it (before ``from torch``); NumPy for Sophia's seeded probes."""
    numpy = racer.optimizer == "sophia" and racer.params["estimator"] == "hutchinson"
    lines = _imports(_names(expression), math=False, numpy=numpy)
    package = PACKAGES[racer.optimizer][0]
    at = lines.index("import torch") + (0 if package.startswith("import") else 1)
    return [*lines[:at], package, *lines[at:]]


def _schedule_free(racer: RacerConfig) -> tuple[list[str], list[str]]:
    params = racer.params
    beta = params["momentum"] if racer.optimizer == "schedule_free_sgd" else params["betas"][0]
    setup = [
        "optimizer.train()  # the parameters hold y, where the gradient is taken",
        "",
        "",
        "def shown():",
        f'{INDENT}"""x, the averaged point the race draws: what optimizer.eval() would put in',
        f'{INDENT}xy, computed on a copy so that training goes on from y."""',
        f'{INDENT}z = optimizer.state[xy]["z"]',
        f"{INDENT}return tuple(xy.detach().lerp(z, 1 - 1 / {beta!r}).tolist())",
        "",
        "",
    ]
    return setup, [f"{INDENT}optimizer.step()", f"{INDENT}path.append(shown())"]


def _sophia(racer: RacerConfig) -> tuple[list[str], list[str]]:
    params = racer.params
    period = params["update_period"]
    if params["estimator"] == "exact":
        about = "the Hessian's exact diagonal"
        estimate = [f"{I2}diagonal = h.diagonal()"]
    else:
        seed = f"{params['seed']!r} * {SEED_STRIDE!r} + t"
        draw = (
            "np.where(rng.random_sample(2) < 0.5, 1.0, -1.0)"
            if params["hessian_distribution"] == "rademacher"
            else "rng.standard_normal(2)"
        )
        about = "z ⊙ Hz, z the race's seeded probe"
        estimate = [
            f"{I2}rng = np.random.RandomState({seed})",
            f"{I2}z = torch.from_numpy({draw})",
            f"{I2}diagonal = z * (h @ z)",
        ]
    body = [
        f"{INDENT}if (t - 1) % {period!r} == 0:  # an update step: {about}",
        f"{I2}h = torch.func.hessian(loss)(xy.detach())",
        *estimate,
        f"{I2}optimizer.step(hessian=[diagonal])",
        f"{INDENT}else:",
        f"{I2}optimizer.step()",
        f"{INDENT}path.append(tuple(xy.tolist()))",
    ]
    return LOSS, body


def package_snippet(config: RaceConfig, index: int) -> str:
    """Python source that reruns racer ``index`` (a package racer) with its package."""
    racer = config.racers[index]
    refuse(racer)
    refuse_noise(config, racer)
    surface = get_surface(config.surface.name, **config.surface.params)
    steps, name = config.steps, racer.optimizer
    _, callee, package = PACKAGES[name]
    start = ", ".join(repr(float(v)) for v in config.start)
    lars = name == "lars"
    point = f"[[{start}]], requires_grad=True)  # (x, y) as a (1, 2) weight"
    if not lars:
        point = f"[{start}], requires_grad=True)  # the point (x, y)"
    read = "xy[0, 0], xy[0, 1]" if lars else "xy[0], xy[1]"
    flat = "xy.flatten()" if lars else "xy"
    before: list[str] = []  # definitions before the point
    setup: list[str] = []  # lines after the optimizer
    body = [f"{INDENT}optimizer.step()", f"{INDENT}path.append(tuple({flat}.tolist()))"]
    if name.startswith("schedule_free"):
        setup, body = _schedule_free(racer)
    elif name == "sophia":
        before, body = _sophia(racer)
    what = f"{package}'s {callee.split('.')[-1]}"
    lines = [
        *preamble(config, index, what, _imports_for(racer, surface.expression)),
        *before,
        f"xy = torch.tensor({point}",
        *_call("optimizer", callee, ["[xy]"], _kwargs(racer)),
        *setup,
        f"path = [tuple({flat}.tolist())]",
        f"for t in range(1, {steps + 1!r}):" if name == "sophia" else f"for _ in range({steps!r}):",
        f"{INDENT}optimizer.zero_grad()",
        f"{INDENT}f({read}).backward()",
        *body,
        "",
        'print("final point:", path[-1])',
    ]
    return "\n".join(lines) + "\n"
