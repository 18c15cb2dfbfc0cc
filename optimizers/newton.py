"""Newton's method: θ ← θ − lr·(H + λI)⁻¹g, with the exact Hessian from the oracle.

``mode`` "plain" uses H itself: it jumps to the stationary point of the local quadratic
model, which is a minimum, a saddle or a maximum as H is definite or not (so Newton is
attracted to saddles and maxima). "saddle_free" (Dauphin et al. 2014) uses
|H| = V|Λ|Vᵀ, the Hessian with its eigenvalues' signs dropped, so a negative curvature
direction is walked down rather than up.

The 2×2 system is solved as LAPACK's ``dgesv`` (torch.linalg.solve) does: LU with partial
pivoting. The one fallback: if the damped matrix is singular or nearly so
(|det| ≤ SINGULAR·‖M‖², ‖M‖ its largest entry) or anything is not finite, the step is the
gradient step θ ← θ − lr·g; a step therefore never makes NaN from a finite gradient.
"""

from __future__ import annotations

import math

from common.jit import inlined
from common.params import Param
from optimizers import oracle
from optimizers.base import Card, Kernel, Limits, OptimizerSpec, hyper_layout, state_slots, tex

# A damped matrix with |det| at most this times its largest entry squared counts as singular.
SINGULAR = 1e-12

PARAMS = (
    Param(
        "damping",
        0.0,
        low=0.0,
        high=1e4,
        help="λ added to the Hessian's diagonal (Levenberg): larger is shorter and more "
        "gradient-like; 0 is Newton's step",
    ),
    Param(
        "mode",
        "plain",
        kind="choice",
        choices=("plain", "saddle_free"),
        help="plain: solve with H (attracted to saddles and maxima); saddle_free: with "
        "|H| = V|Λ|Vᵀ, every curvature counted positive (Dauphin et al. 2014). Where the "
        "damped matrix is singular the step falls back to the gradient step −lr·g",
    ),
)
DAMPING, MODE = hyper_layout(PARAMS)
# State: the last step's direction d (what θ moved by over lr), and whether it fell back.
STATE = ("direction",)
SCALARS = ("fell_back",)
DIRECTION, FELL_BACK = state_slots(STATE, SCALARS, "direction", "fell_back")


@inlined
def absolute(a, b, d):
    """|H| = V|Λ|Vᵀ for the symmetric [[a, b], [b, d]], from its two eigenvalues."""
    m = 0.5 * (a + d)
    r = math.hypot(0.5 * (a - d), b)
    l1, l2 = m + r, m - r
    if l2 >= 0:
        return a, b, d
    if l1 <= 0:
        return -a, -b, -d
    # l1 > 0 > l2. With the projectors P1 = (H − l2·I)/(l1 − l2) and P2 = I − P1,
    # |H| = l1·P1 − l2·P2 = k·(H − l2·I) − l2·I, k = (l1 + l2)/(l1 − l2).
    k = (l1 + l2) / (l1 - l2)
    return k * (a - l2) - l2, k * b, k * (d - l2) - l2


@inlined
def solve(a, b, c, d, g0, g1):
    """x with [[a, b], [c, d]]·x = g by LU with partial pivoting (dgesv); ok False when the
    matrix is singular (see the module docstring) or the result is not finite."""
    scale = max(abs(a), abs(b), abs(c), abs(d))
    det = a * d - b * c
    if not (scale > 0 and abs(det) > SINGULAR * scale * scale and math.isfinite(det)):
        return 0.0, 0.0, False
    if abs(c) > abs(a):
        a, b, c, d, g0, g1 = c, d, a, b, g1, g0
    factor = c * (1.0 / a)
    u = d - factor * b
    x1 = (g1 - factor * g0) / u
    x0 = (g0 - b * x1) / a
    ok = math.isfinite(x0) and math.isfinite(x1)
    return x0, x1, ok


@inlined
def step(o, w, s, h, lr, cyc, t):
    """One damped (saddle-free) Newton step for one run."""
    gx, gy = oracle.gradient(o, w[0], w[1])
    a, b, d = oracle.hessian(o, w[0], w[1])
    if h[MODE] != 0:
        a, b, d = absolute(a, b, d)
    lam = h[DAMPING]
    dx, dy, ok = solve(a + lam, b, b, d + lam, gx, gy)
    if not ok:
        dx, dy = gx, gy
    s[DIRECTION] = dx
    s[DIRECTION + 1] = dy
    s[FELL_BACK] = 0.0 if ok else 1.0
    w[0] = w[0] - lr * dx
    w[1] = w[1] - lr * dy
    return w[0], w[1]


def equation(lr: str, v) -> list[str]:
    matrix = r"|H|" if v["mode"] == "saddle_free" else "H"
    damped = matrix if not v["damping"] else rf"{matrix} + {tex(v['damping'])}\,I"
    lines = [rf"d &= ({damped})^{{-1}}\,g \quad(\text{{singular: }} d = g)"]
    if v["mode"] == "saddle_free":
        lines.insert(0, r"|H| &= V\,|\Lambda|\,V^\top")
    return [*lines, rf"\theta &\leftarrow \theta - {lr}\,d"]


NEWTON = OptimizerSpec(
    name="newton",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, scalars=SCALARS),
    card=Card(
        title="Newton",
        default_lr=1.0,
        equation=equation,
        help="Newton's method with the exact Hessian: θ ← θ − lr·(H + λI)⁻¹g. Solves a quadratic "
        "in one step at any angle; plain Newton heads for the nearest stationary point (saddles "
        "and maxima too), saddle-free uses |H|. A singular system takes the gradient step.",
    ),
    limits=Limits(
        step_cost=lambda v: 2.0,  # a Hessian and a 2×2 solve (eigen-decomposition: saddle-free)
    ),
)
