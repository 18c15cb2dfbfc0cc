"""Himmelblau: four minima of equal depth, so the start decides which one a racer finds."""

import math

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix, refine_point


def value(p):
    x, y = p[..., 0], p[..., 1]
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def gradient(p):
    x, y = p[..., 0], p[..., 1]
    a, b = x * x + y - 11, x + y * y - 7
    return pack(4 * x * a + 2 * b, 2 * a + 4 * y * b)


def hessian(p):
    x, y = p[..., 0], p[..., 1]
    return pack_matrix(12 * x * x + 4 * y - 42, 4 * x + 4 * y, 4 * x + 12 * y * y - 26)


TABLE_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))
TABLE_MAXIMUM = (-0.270845, -0.923039)
# The four saddles between the minima and around the peak: listed so that a run at rest on
# one (plain Newton is attracted to them) is counted there, not as still moving.
TABLE_SADDLES = (
    (0.086678, 2.884255),
    (-3.073026, -0.081353),
    (3.385154, 0.073852),
    (-0.127961, -1.953715),
)
MINIMA = tuple(refine_point(gradient, hessian, p) for p in TABLE_MINIMA)
MAXIMUM = refine_point(gradient, hessian, TABLE_MAXIMUM)
SADDLES = tuple(refine_point(gradient, hessian, p) for p in TABLE_SADDLES)


def build() -> Surface:
    return Surface(
        name="himmelblau",
        title="Himmelblau",
        latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression="(x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2",
        view=((-5.0, 5.0), (-5.0, 5.0)),
        # Beside the central peak: small differences in the first steps pick different basins.
        default_start=(-0.5, 0.0),
        minima=MINIMA,
        maxima=(MAXIMUM,),
        saddles=SADDLES,
        log_color=True,
        f_star=0.0,
        residuals=(f"{SQRT2!r} * (x * x + y - 11)", f"{SQRT2!r} * (x + y * y - 7)"),
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def f(x, y, c):
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


@jit
def grad(x, y, c):
    a, b = x * x + y - 11, x + y * y - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


@jit
def hess(x, y, c):
    return 12 * x * x + 4 * y - 42, 4 * x + 4 * y, 4 * x + 12 * y * y - 26


# f = ½‖r‖² with r = √2·(x² + y − 11, x + y² − 7) (surfaces.base.Compiled's convention).
SQRT2 = math.sqrt(2.0)


@jit
def residuals(x, y, c):
    return SQRT2 * (x * x + y - 11), SQRT2 * (x + y * y - 7), 0.0


@jit
def jacobian(x, y, c):
    return SQRT2 * (2 * x), SQRT2, SQRT2, SQRT2 * (2 * y), 0.0, 0.0


COMPILED = Compiled(f, grad, hess, residuals, jacobian)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="himmelblau",
    title="Himmelblau",
    build=build,
    help="Four equal minima around a central peak: which one you reach depends on the path.",
)
