"""Gauss–Newton and Levenberg–Marquardt, for surfaces that are sums of squares f = ½‖r‖².

Each step evaluates the residuals r and their Jacobian J at θ (``oracle.normal_equations``:
one gradient of work) and solves the damped normal equations

    (JᵀJ + λD)·d = −Jᵀr,   D = I ("identity", Levenberg) or diag(JᵀJ) ("diagonal", Marquardt)

as Newton's 2×2 solve does (``newton.solve``: LU with partial pivoting, the same singularity
test). The one fallback: a singular or non-finite system takes the gradient step d = −Jᵀr.

* not ``adaptive``: θ ← θ + d with λ fixed (λ = 0 is plain Gauss–Newton).
* ``adaptive``: the trial θ + d is accepted if it lowers f; then λ ← SHRINK·λ. Otherwise the
  trial is rejected, λ ← min(max(GROW·λ, FLOOR), CEILING) and d is solved again from the same
  r and J, at most ``TRIALS`` trials a step (none accepted: the racer stays put, λ grown for
  the next step). Each trial costs one function value, counted by the oracle, which records
  the trial points for the map.

There is no rate: the step is d itself, whose length the damping sets, so ``Kernel.swept``
names ``damping`` (a sweep varies it instead of lr) and the racer's lr is not used.

Why it is the natural gradient here: f = ½‖r‖² is the negative log-likelihood of Gaussian
observations with unit variance, whose Fisher information is JᵀJ; so JᵀJ is also the
Gauss–Newton approximation of the Hessian (∇²f = JᵀJ + Σ rᵢ∇²rᵢ, the second part dropped),
always positive semi-definite, so d is a descent direction and the method is never drawn to
maxima or saddles as Newton is.
"""

from __future__ import annotations

from common.jit import inlined
from common.params import Param
from optimizers import oracle
from optimizers.base import Card, Kernel, Limits, OptimizerSpec, hyper_layout, state_slots, tex
from optimizers.newton import solve

GROW, SHRINK = 10.0, 0.1  # Marquardt's factors: λ × 10 on a rejected trial, × 0.1 on success
FLOOR = 1e-6  # a rejected trial at λ = 0 (or below this) grows λ to this first
CEILING = 1e16  # λ grows no further (at a minimum no trial lowers f: λ would reach inf)
TRIALS = 12  # trials a step: from FLOOR, λ grows to 1e5 before the racer gives up a step

PARAMS = (
    Param(
        "damping",
        1e-3,
        low=0.0,
        high=1e4,
        help="λ, the damping: 0 is Gauss–Newton; larger steps are shorter and turn towards "
        "the gradient (adaptive: λ at the first step, then adapted)",
    ),
    Param(
        "scaling",
        "identity",
        kind="choice",
        choices=("identity", "diagonal"),
        help="the damping's matrix D: identity (Levenberg: λI) or diagonal (Marquardt: "
        "λ·diag(JᵀJ), the same in any units of x and y)",
    ),
    Param(
        "adaptive",
        True,
        kind="bool",
        help=f"accept a trial step that lowers f and shrink λ ×{SHRINK:g}, else reject it "
        f"(its function value counts as work) and grow λ ×{GROW:g} (from at least "
        f"{FLOOR:g}, to at most {CEILING:g}), at most {TRIALS} trials a step; off: every step "
        "taken, λ fixed",
    ),
)
DAMPING, SCALING, ADAPTIVE = hyper_layout(PARAMS)
# State: the step taken, the λ it was solved with, the λ the next step starts from, the
# trials it took, whether one was accepted, and JᵀJ (the curvature the inspector shows).
STATE = ("direction",)
SCALARS = ("damping", "next_damping", "trials", "accepted", "jtj_xx", "jtj_xy", "jtj_yy")
DIRECTION, USED, NEXT, TRIED, ACCEPTED, JTJ = state_slots(
    STATE, SCALARS, "direction", "damping", "next_damping", "trials", "accepted", "jtj_xx"
)


@inlined
def _direction(a, b, d, gx, gy, lam, diagonal):
    """d solving (JᵀJ + λD)·d = −g; the gradient step −g where that system is singular."""
    da, dd = (a, d) if diagonal else (1.0, 1.0)
    dx, dy, ok = solve(a + lam * da, b, b, d + lam * dd, -gx, -gy)
    if not ok:
        return -gx, -gy
    return dx, dy


@inlined
def step(o, w, s, h, lr, cyc, t):
    """One Gauss–Newton / Levenberg–Marquardt step for one run."""
    x, y = w[0], w[1]
    f, gx, gy, a, b, d = oracle.normal_equations(o, x, y)
    s[JTJ], s[JTJ + 1], s[JTJ + 2] = a, b, d
    lam = s[NEXT]
    if gx == 0 and gy == 0:  # a stationary point: d = 0, nothing to try
        s[DIRECTION], s[DIRECTION + 1], s[USED], s[TRIED], s[ACCEPTED] = 0.0, 0.0, lam, 0.0, 1.0
        return x, y
    diagonal = h[SCALING] != 0
    dx, dy = _direction(a, b, d, gx, gy, lam, diagonal)
    if h[ADAPTIVE] == 0:
        s[DIRECTION], s[DIRECTION + 1], s[USED], s[TRIED], s[ACCEPTED] = dx, dy, lam, 1.0, 1.0
        w[0], w[1] = x + dx, y + dy
        return w[0], w[1]
    s[ACCEPTED] = 0.0
    for k in range(TRIALS):
        s[TRIED] = k + 1.0
        s[USED] = lam
        if oracle.value(o, x + dx, y + dy) < f:
            s[ACCEPTED] = 1.0
            s[DIRECTION], s[DIRECTION + 1] = dx, dy
            w[0], w[1] = x + dx, y + dy
            s[NEXT] = SHRINK * lam
            return w[0], w[1]
        lam = min(max(GROW * lam, FLOOR), CEILING)
        if k + 1 < TRIALS:
            dx, dy = _direction(a, b, d, gx, gy, lam, diagonal)
    s[DIRECTION], s[DIRECTION + 1] = 0.0, 0.0
    s[NEXT] = lam
    return w[0], w[1]


def initial_state(values) -> list[float]:
    state = [0.0] * (2 + 4 + 3)
    state[NEXT] = float(values["damping"])
    return state


def equation(lr: str, v) -> list[str]:
    matrix = "I" if v["scaling"] == "identity" else r"\operatorname{diag}(J^\top J)"
    lam = r"\lambda" if v["adaptive"] else tex(v["damping"])
    lines = [
        rf"(J^\top J + {lam}\,{matrix})\,d &= -J^\top r \quad(\text{{singular: }} d = -J^\top r)",
    ]
    if not v["adaptive"]:
        return [*lines, r"\theta &\leftarrow \theta + d"]
    return [
        rf"\lambda_0 &= {tex(v['damping'])}",
        *lines,
        rf"f(\theta + d) < f(\theta) &:\ \theta \leftarrow \theta + d,\ "
        rf"\lambda \leftarrow {tex(SHRINK)}\,\lambda",
        rf"\text{{else}} &:\ \lambda \leftarrow \min(\max({tex(GROW)}\,\lambda,\ {tex(FLOOR)}),"
        rf"\ {tex(CEILING)}),\ \text{{try again}}",
    ]


GAUSS_NEWTON = OptimizerSpec(
    name="gauss_newton",
    params=PARAMS,
    kernel=Kernel(step=step, state=STATE, scalars=SCALARS, init=initial_state, swept="damping"),
    card=Card(
        title="Gauss–Newton / LM",
        default_lr=1.0,
        equation=equation,
        help="Gauss–Newton / Levenberg–Marquardt for sums of squares f = ½‖r‖²: d solves "
        "(JᵀJ + λD)d = −Jᵀr. For Gaussian residuals JᵀJ is the Fisher information, so this is "
        "the natural gradient step: never drawn to maxima or saddles. No rate (lr is not used): "
        "damping sets the step, and sweeps vary it. Only on surfaces that are sums of squares.",
    ),
    limits=Limits(residuals=True),
)
