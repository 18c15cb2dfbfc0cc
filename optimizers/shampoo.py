"""Shampoo (Gupta et al. 2018) as pytorch-optimizer 4.1.0's ``Shampoo`` computes it for the
racer's point as a (2,) tensor: full-matrix AdaGrad.

A tensor of order 1 has one factor, L = matrix_eps·I + Σ g gᵀ, and the exponent the paper
gives one factor of an order-k tensor, −1/(2k), is −1/2: the step is θ ← θ − lr·L^{-1/2}g.
The package takes L^{-1/2} from an SVD (LAPACK); here from the 2×2 eigendecomposition
(eigenvalues m ± r, projectors P₁ = (L − λ₂I)/(λ₁ − λ₂), P₂ = I − P₁), equal up to rounding.
It is recomputed every ``preconditioning_compute_steps`` steps and starts at zero (the
package's), so with k > 1 the first k − 1 steps do not move. Momentum, as the package does
it, blends the new gradient towards the last preconditioned step (g ← lerp(g, b, momentum),
b ← the step's L^{-1/2}g). Unlike a diagonal method (AdaGrad, Adam) this sees rotation:
on a rotated quadratic its L lines up with the valley. torch-optimizer's Shampoo differs:
it takes L^{-1} for a vector (its exponent is −1/order, a known slip); a (1, 2) shape
would give L^{-1/4} g R^{-1/4}.
"""

from __future__ import annotations

import math

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
    *common_params(momentum=0.0),
    *decay.params(False),
    Param(
        "preconditioning_compute_steps",
        1,
        kind="int",
        low=1,
        high=10_000,
        help="recompute L^{-1/2} every this many steps (it starts at zero: no move before)",
    ),
    Param(
        "matrix_eps",
        1e-6,
        low=0.0,
        high=1.0,
        low_open=True,
        scale="log",
        help="L starts as this times the identity",
    ),
)
MOMENTUM, WD, DECOUPLE, FIXED, EVERY, MATRIX_EPS = hyper_layout(PARAMS)
# State: the momentum buffer (the last preconditioned step), then L and L^{-1/2} as
# (xx, xy, yy), then whether L has been started.
STATE = ("momentum_buffer",)
SCALARS = ("l_xx", "l_xy", "l_yy", "p_xx", "p_xy", "p_yy", "started")
(BUF,) = state_slots(STATE, SCALARS, *STATE)
L_XX, L_XY, L_YY, P_XX, P_XY, P_YY, STARTED = state_slots(STATE, SCALARS, *SCALARS)


@inlined
def inverse_root(a, b, d):
    """L^{-1/2} of the symmetric positive definite [[a, b], [b, d]] as (xx, xy, yy)."""
    m = 0.5 * (a + d)
    r = math.hypot(0.5 * (a - d), b)
    l1, l2 = m + r, m - r
    if not l2 > 0:  # rounding made L look singular: the package's SVD would give inf too
        return math.inf, 0.0, math.inf
    p1, p2 = l1**-0.5, l2**-0.5
    if r == 0:
        return p1, 0.0, p1
    # L^{-1/2} = p1·P1 + p2·(I − P1), P1 = (L − l2·I)/(l1 − l2).
    k = (p1 - p2) / (l1 - l2)
    return k * (a - l2) + p2, k * b, k * (d - l2) + p2


@inlined
def step(o, w, s, h, lr, cyc, t):
    """Shampoo.step for one (2,) tensor; ``cyc`` is the (cycled) momentum."""
    mom, wd = cyc, h[WD]
    gx, gy = oracle.gradient(o, w[0], w[1])
    if s[STARTED] == 0:
        eps = h[MATRIX_EPS]
        s[L_XX], s[L_XY], s[L_YY] = eps, 0.0, eps
        s[BUF], s[BUF + 1] = gx, gy  # the package's buffer starts as the first gradient
        s[STARTED] = 1.0
    if mom > 0:
        gx = oracle.lerp(gx, s[BUF], mom)
        gy = oracle.lerp(gy, s[BUF + 1], mom)
    gx, gy = decay.apply(w, gx, gy, wd, h[DECOUPLE], h[FIXED], lr)
    s[L_XX] = s[L_XX] + gx * gx
    s[L_XY] = s[L_XY] + gx * gy
    s[L_YY] = s[L_YY] + gy * gy
    if t % int(h[EVERY]) == 0:
        s[P_XX], s[P_XY], s[P_YY] = inverse_root(s[L_XX], s[L_XY], s[L_YY])
    ux = gx * s[P_XX] + gy * s[P_XY]
    uy = gx * s[P_XY] + gy * s[P_YY]
    s[BUF], s[BUF + 1] = ux, uy
    w[0] = oracle.fma(-lr, ux, w[0])
    w[1] = oracle.fma(-lr, uy, w[1])
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    lines = []
    if v["momentum"]:
        lines.append(rf"g &\leftarrow (1 - {tex(v['momentum'])})\,g + {tex(v['momentum'])}\,b")
    lines += decay.lines(lr, v)
    every = v["preconditioning_compute_steps"]
    when = "" if every == 1 else rf" \quad (\text{{every {every} steps}})"
    return [
        *lines,
        rf"L &\leftarrow L + g\,g^\top \quad (L_0 = {tex(v['matrix_eps'])}\,I)",
        rf"P &= L^{{-1/2}}{when}",
        rf"b &= P\,g,\quad \theta \leftarrow \theta - {lr}\,b",
    ]


def _axes(xx, xy, yy):
    """Eigenvalues (descending) and unit eigenvectors (x ≥ 0, else y > 0) of the symmetric
    2×2 matrices [[xx, xy], [xy, yy]], one per step."""
    m = np.stack([np.stack([xx, xy], -1), np.stack([xy, yy], -1)], -2)
    lam, vec = np.linalg.eigh(np.where(np.isfinite(m), m, 0.0))
    lam, vec = lam[:, ::-1], vec[:, :, ::-1].transpose(0, 2, 1)  # row k: the k-th vector
    flip = (vec[..., 0] < 0) | ((vec[..., 0] == 0) & (vec[..., 1] < 0))
    vec = np.where(flip[..., None], -vec, vec)
    return lam, vec


def inspect(state, values, lr, cyc, t):
    """L = εI + Σggᵀ after each step (as its rows), its eigenvalues, and the ellipse of
    L^{-1/2} as the step used it (recomputed every k steps): its semi-axes (P's eigenvalues,
    the stretch a unit gradient gets along each) and their directions."""
    lx, lxy, ly = state["l_xx"], state["l_xy"], state["l_yy"]
    px, pxy, py = state["p_xx"], state["p_xy"], state["p_yy"]
    lam = _axes(lx, lxy, ly)[0]
    stretch, axes = _axes(px, pxy, py)
    return {
        "L_row_1": np.stack([lx, lxy], -1),
        "L_row_2": np.stack([lxy, ly], -1),
        "L_eigenvalues": lam,
        "P_eigenvalues": stretch,
        "P_axis_1": axes[:, 0],
        "P_axis_2": axes[:, 1],
    }


SHAMPOO = OptimizerSpec(
    name="shampoo",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, scalars=SCALARS, cycles="momentum"),
    card=Card(
        title="Shampoo",
        default_lr=1e-3,
        equation=equation,
        inspect=inspect,
        help="Reference: pytorch-optimizer 4.1.0 (Shampoo) on a (2,) tensor: full-matrix AdaGrad, "
        "θ ← θ − lr·L^{-1/2}g with L = εI + Σggᵀ (one factor, exponent −1/2; L^{-1/2} from a 2×2 "
        "eigendecomposition where the package uses an SVD: equal to rounding). It sees rotation, "
        "unlike diagonal AdaGrad or Adam. torch-optimizer's Shampoo takes L^{-1} for a vector.",
    ),
    limits=Limits(
        step_cost=lambda v: 2.0,  # a 2×2 matrix root a step
        sam=True,
    ),
)
