"""Sophia (Liu et al. 2023), as pytorch-optimizer 4.1.0's ``SophiaH`` computes it (its
``foreach`` path) with the Hessian diagonal given to ``step(hessian=…)`` every
``update_period`` steps (steps 1, 1 + k, 1 + 2k, …, as the package estimates it itself).

m ← lerp(m, g, 1 − β1); on an update step h ← lerp(h, ĥ, 1 − β2); then the clipped
diagonal Newton step θ ← θ − lr·clip(m / max(h, eps), −p, p). Where the curvature is small,
negative or not yet estimated (h starts at 0 and is not bias-corrected) m/eps is huge and the
step is lr·p·sign(m): a sign step; near a minimum with h large it is a damped Newton step.

ĥ, the diagonal: ``estimator`` "exact" takes diag ∇²f; "hutchinson" takes z ⊙ (∇²f z) for
one probe vector z (Gaussian or Rademacher, ``hessian_distribution``), which estimates
H_ii + Σ_j≠i z_i z_j H_ij: exact on axis-aligned bowls, noisy on rotated ones. The probes are
seeded: numba's (NumPy's legacy) generator seeded with ``seed``·1,000,003 + t, so every racer
with the same seed sees the same vectors, like the race's noise. Either estimate costs one
Hessian on the work clock (a Hessian-vector product costs about two gradients).
"""

from __future__ import annotations

import numpy as np

from common.jit import inlined
from common.params import Param
from optimizers import decay, oracle
from optimizers.base import (
    Card,
    Kernel,
    Limits,
    OptimizerSpec,
    common_params,
    hyper_layout,
    state_slots,
    tex,
)

PARAMS = (
    *common_params(betas=(0.96, 0.99)),
    *decay.params(True),
    Param(
        "p",
        1e-2,
        low=0.0,
        high=10.0,
        low_open=True,
        scale="log",
        help="the clip: each coordinate's m/h is kept within ±p (the step within ±lr·p)",
    ),
    Param(
        "update_period",
        10,
        kind="int",
        low=1,
        high=10_000,
        help="estimate the Hessian diagonal every this many steps (from step 1)",
    ),
    Param(
        "estimator",
        "hutchinson",
        kind="choice",
        choices=("hutchinson", "exact"),
        help="hutchinson: z ⊙ Hz for a seeded probe z (noisy where H is not diagonal); "
        "exact: diag H",
    ),
    Param(
        "hessian_distribution",
        "gaussian",
        kind="choice",
        choices=("gaussian", "rademacher"),
        help="the probe vectors' distribution (Hutchinson only)",
    ),
    Param(
        "seed",
        0,
        kind="int",
        low=0,
        high=4000,
        help="the probe vectors' seed: racers with the same seed share their probes",
    ),
    *common_params(eps=1e-12),
)
B1, B2, WD, DECOUPLE, FIXED, CLIP, PERIOD, ESTIMATOR, DISTRIBUTION, SEED, EPS = hyper_layout(PARAMS)
# State: m, the curvature average h, the last estimate ĥ, which coordinates were clipped.
STATE = ("m", "hessian_moment", "hessian", "clipped")
SCALARS = ()
M, HM, EST, CLIPPED = state_slots(STATE, SCALARS, "m", "hessian_moment", "hessian", "clipped")
SEED_STRIDE = 1_000_003


@inlined
def probe(seed, t, rademacher):
    """Step t's probe vector z, drawn as NumPy's legacy RandomState(seed·1,000,003 + t)."""
    np.random.seed(seed * SEED_STRIDE + t)
    if rademacher:
        return (1.0 if np.random.random() < 0.5 else -1.0), (
            1.0 if np.random.random() < 0.5 else -1.0
        )
    return np.random.standard_normal(), np.random.standard_normal()


@inlined
def step(o, w, s, h, lr, cyc, t):
    """SophiaH.step (foreach) for one run; ``cyc`` is the (cycled) β1."""
    b1, b2, wd, clip, eps = cyc, h[B2], h[WD], h[CLIP], h[EPS]
    gx, gy = oracle.gradient(o, w[0], w[1])
    update = (t - 1) % int(h[PERIOD]) == 0
    if update:
        if h[ESTIMATOR] != 0:
            a, _, d = oracle.hessian(o, w[0], w[1])
            s[EST], s[EST + 1] = a, d
        else:
            zx, zy = probe(int(h[SEED]), t, h[DISTRIBUTION] != 0)
            hx, hy = oracle.hessian_vector(o, w[0], w[1], zx, zy)
            s[EST], s[EST + 1] = zx * hx, zy * hy
    gx, gy = decay.apply(w, gx, gy, wd, h[DECOUPLE], h[FIXED], lr)
    for i in range(2):
        g = gx if i == 0 else gy
        s[M + i] = oracle.lerp(s[M + i], g, 1.0 - b1)
        if update:
            s[HM + i] = oracle.lerp(s[HM + i], s[EST + i], 1.0 - b2)
        u = s[M + i] / oracle.maximum(s[HM + i], eps)
        s[CLIPPED + i] = 1.0 if abs(u) > clip else 0.0
        u = min(max(u, -clip), clip)
        w[i] = oracle.fma(-lr, u, w[i])
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    b1, b2 = v["betas"]
    k = v["update_period"]
    if v["estimator"] == "exact":
        estimate = r"\hat h &= \operatorname{diag}\nabla^2 f"
    else:
        estimate = r"\hat h &= z \odot (\nabla^2 f\, z),\ z \sim " + (
            r"\mathcal N(0, I)" if v["hessian_distribution"] == "gaussian" else r"\pm 1"
        )
    return [
        *decay.lines(lr, v),
        rf"{estimate} \quad (t = 1, {1 + k}, {1 + 2 * k}, \dots)",
        rf"m &\leftarrow {tex(b1)}\,m + {tex(1 - b1)}\,g",
        rf"h &\leftarrow {tex(b2)}\,h + {tex(1 - b2)}\,\hat h \quad (\text{{update steps}})",
        rf"\theta &\leftarrow \theta - {lr}\,\operatorname{{clip}}\!\left("
        rf"\frac{{m}}{{\max(h, {tex(v['eps'])})}},\ \pm {tex(v['p'])}\right)",
    ]


SOPHIA = OptimizerSpec(
    name="sophia",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, cycles="beta1"),
    card=Card(
        title="Sophia",
        default_lr=6e-2,
        equation=equation,
        help="Reference: pytorch-optimizer 4.1.0 (SophiaH) with the Hessian diagonal injected "
        "through step(hessian=…) every update_period steps: Hutchinson's z ⊙ Hz with seeded probes "
        "(shared by racers with the same seed) or the exact diagonal. A clipped diagonal Newton "
        "step: a sign step of lr·p where the curvature is small, negative or not yet estimated, a "
        "Newton step near a minimum. Each estimate costs one Hessian on the work clock.",
    ),
    limits=Limits(
        # Seeding a probe's generator costs about 15 plain steps (once per update).
        step_cost=lambda v: (
            2.0 + (15.0 / v["update_period"] if v["estimator"] == "hutchinson" else 0)
        ),
    ),
)
