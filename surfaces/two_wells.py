"""Two wells of equal depth, one narrow and one wide, in a gentle bowl: where sharpness-aware
minimisation (SAM) should prefer the wide one, since the loss is the same at the bottom of both.

f = ½k‖p‖² − A·exp(−‖p − c₁‖²/(2σ₁²)) − B·exp(−‖p − c₂‖²/(2σ₂²)) + C, the narrow well at
c₁ = (−2, 0) (σ₁ = 0.3), the wide one at c₂ = (2, 0) (σ₂ = 1). The bowl pulls each minimum a
little towards the origin and lifts it, by different amounts for the two widths, so equal
depths cannot be written down: B is solved for (a secant on the depth difference) and C
shifts the common depth to 0. Both centres lie on y = 0 and f is even in y, so both minima
do too; ``refine_point`` makes them exact.
"""

import math

import numpy as np

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix, refine_point

K = 0.1  # the bowl's curvature
A = 1.0  # the narrow well's depth
N_X, N_S2 = -2.0, 2 * 0.3**2  # narrow well: centre x, 2σ²
W_X, W_S2 = 2.0, 2 * 1.0**2  # wide well: centre x, 2σ²


def _parts(p, b, c):
    x, y = p[..., 0], p[..., 1]
    en = A * np.exp(-((x - N_X) ** 2 + y * y) / N_S2)
    ew = b * np.exp(-((x - W_X) ** 2 + y * y) / W_S2)
    return x, y, en, ew


def _value(p, b, c):
    x, y, en, ew = _parts(p, b, c)
    return 0.5 * K * (x * x + y * y) - en - ew + c


def _gradient(p, b, c):
    x, y, en, ew = _parts(p, b, c)
    sn, sw = 2 * en / N_S2, 2 * ew / W_S2
    return pack(K * x + sn * (x - N_X) + sw * (x - W_X), K * y + sn * y + sw * y)


def _hessian(p, b, c):
    x, y, en, ew = _parts(p, b, c)
    sn, sw = 2 * en / N_S2, 2 * ew / W_S2
    un, uw, tn, tw = x - N_X, x - W_X, 2 / N_S2, 2 / W_S2
    hxx = K + sn * (1 - tn * un * un) + sw * (1 - tw * uw * uw)
    hxy = -sn * tn * un * y - sw * tw * uw * y
    hyy = K + sn * (1 - tn * y * y) + sw * (1 - tw * y * y)
    return pack_matrix(hxx, hxy, hyy)


def _minima(b: float) -> tuple[tuple[float, float], tuple[float, float]]:
    grad = lambda p: _gradient(p, b, 0.0)  # noqa: E731
    hess = lambda p: _hessian(p, b, 0.0)  # noqa: E731
    return refine_point(grad, hess, (N_X, 0.0)), refine_point(grad, hess, (W_X * 0.9, 0.0))


def _gap(b: float) -> float:
    """Depth of the narrow minimum minus the wide one's (0: equally deep)."""
    narrow, wide = _minima(b)
    return float(_value(np.array(narrow), b, 0.0) - _value(np.array(wide), b, 0.0))


def _solve_depth() -> float:
    """B with both minima equally deep: a secant on ``_gap``, to the last bit that changes it."""
    b0, b1 = 1.0, 1.1
    g0, g1 = _gap(b0), _gap(b1)
    for _ in range(60):
        if g1 == g0:
            break
        b0, b1, g0 = b1, b1 - g1 * (b1 - b0) / (g1 - g0), g1
        g1 = _gap(b1)
        if g1 == 0 or abs(b1 - b0) <= 1e-16 * abs(b1):
            break
    return b1


B = _solve_depth()
NARROW, WIDE = _minima(B)
C = -float(_value(np.array(NARROW), B, 0.0))
# The pass between the wells, on y = 0 nearer the narrow one (f ≈ 0.84 above both minima).
SADDLE = refine_point(lambda p: _gradient(p, B, C), lambda p: _hessian(p, B, C), (-1.12, 0.0))


def value(p):
    return _value(p, B, C)


def gradient(p):
    return _gradient(p, B, C)


def hessian(p):
    return _hessian(p, B, C)


def build() -> Surface:
    return Surface(
        name="two_wells",
        title="Two wells (narrow and wide)",
        latex=r"f(x, y) = \tfrac{k}{2}\|p\|^2 - A\,e^{-\|p - c_1\|^2/2\sigma_1^2}"
        r" - B\,e^{-\|p - c_2\|^2/2\sigma_2^2} + C,\ \sigma_1 = 0.3,\ \sigma_2 = 1",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression=(
            f"0.5 * {K!r} * (x**2 + y**2)"
            f" - {A!r} * exp(-((x - {N_X!r}) ** 2 + y**2) / {N_S2!r})"
            f" - {B!r} * exp(-((x - {W_X!r}) ** 2 + y**2) / {W_S2!r}) + {C!r}"
        ),
        view=((-4.0, 4.0), (-4.0, 4.0)),
        # Between the wells and off their axis: plain descent rolls into the wide well.
        default_start=(0.0, 1.5),
        minima=(NARROW, WIDE),
        saddles=(SADDLE,),
        f_star=0.0,
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def _wells(x, y):
    en = A * math.exp(-((x - N_X) ** 2 + y * y) / N_S2)
    ew = B * math.exp(-((x - W_X) ** 2 + y * y) / W_S2)
    return en, ew


@jit
def f(x, y, c):
    en, ew = _wells(x, y)
    return 0.5 * K * (x * x + y * y) - en - ew + C


@jit
def grad(x, y, c):
    en, ew = _wells(x, y)
    sn, sw = 2 * en / N_S2, 2 * ew / W_S2
    return K * x + sn * (x - N_X) + sw * (x - W_X), K * y + sn * y + sw * y


@jit
def hess(x, y, c):
    en, ew = _wells(x, y)
    sn, sw = 2 * en / N_S2, 2 * ew / W_S2
    un, uw, tn, tw = x - N_X, x - W_X, 2 / N_S2, 2 / W_S2
    hxx = K + sn * (1 - tn * un * un) + sw * (1 - tw * uw * uw)
    hxy = -sn * tn * un * y - sw * tw * uw * y
    hyy = K + sn * (1 - tn * y * y) + sw * (1 - tw * y * y)
    return hxx, hxy, hyy


COMPILED = Compiled(f, grad, hess)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="two_wells",
    title="Two wells (narrow and wide)",
    build=build,
    help="Two equally deep minima, a narrow well at (−2, 0) and a wide one near (2, 0), in a "
    "gentle bowl: the loss cannot tell them apart, their sharpness can (SAM's flat-minimum "
    "claim).",
)
