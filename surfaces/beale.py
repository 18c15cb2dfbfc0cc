"""Beale: a flat plateau with sharp ridges, minimum at (3, 0.5)."""

import math

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix


def _terms(p):
    x, y = p[..., 0], p[..., 1]
    y2 = y * y
    y3 = y2 * y
    return x, y, y2, y3, 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3


def value(p):
    *_, a, b, c = _terms(p)
    return a * a + b * b + c * c


def gradient(p):
    x, y, y2, y3, a, b, c = _terms(p)
    gx = 2 * (a * (y - 1) + b * (y2 - 1) + c * (y3 - 1))
    gy = 2 * (a * x + b * 2 * x * y + c * 3 * x * y2)
    return pack(gx, gy)


def hessian(p):
    x, y, y2, y3, a, b, c = _terms(p)
    ax, ay = y - 1, x
    bx, by = y2 - 1, 2 * x * y
    cx, cy = y3 - 1, 3 * x * y2
    hxx = 2 * (ax * ax + bx * bx + cx * cx)
    hxy = 2 * (ax * ay + bx * by + cx * cy + a + b * 2 * y + c * 3 * y2)
    hyy = 2 * (ay * ay + by * by + cy * cy + b * 2 * x + c * 6 * x * y)
    return pack_matrix(hxx, hxy, hyy)


def build() -> Surface:
    return Surface(
        name="beale",
        title="Beale",
        latex=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression=(
            "(1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2"
        ),
        view=((-4.5, 4.5), (-4.5, 4.5)),
        default_start=(1.0, 1.5),
        minima=((3.0, 0.5),),
        log_color=True,
        f_star=0.0,
        residuals=(
            f"{SQRT2!r} * (1.5 - x + x * y)",
            f"{SQRT2!r} * (2.25 - x + x * (y * y))",
            f"{SQRT2!r} * (2.625 - x + x * (y * y * y))",
        ),
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def _parts(x, y):
    y2 = y * y
    y3 = y2 * y
    return y2, y3, 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * y3


@jit
def f(x, y, c):
    _, _, a, b, d = _parts(x, y)
    return a * a + b * b + d * d


@jit
def grad(x, y, c):
    y2, y3, a, b, d = _parts(x, y)
    gx = 2 * (a * (y - 1) + b * (y2 - 1) + d * (y3 - 1))
    gy = 2 * (a * x + b * 2 * x * y + d * 3 * x * y2)
    return gx, gy


@jit
def hess(x, y, c):
    y2, y3, a, b, d = _parts(x, y)
    ax, ay = y - 1, x
    bx, by = y2 - 1, 2 * x * y
    cx, cy = y3 - 1, 3 * x * y2
    hxx = 2 * (ax * ax + bx * bx + cx * cx)
    hxy = 2 * (ax * ay + bx * by + cx * cy + a + b * 2 * y + d * 3 * y2)
    hyy = 2 * (ay * ay + by * by + cy * cy + b * 2 * x + d * 6 * x * y)
    return hxx, hxy, hyy


# f = ½‖r‖² with r = √2·(1.5 − x + xy, 2.25 − x + xy², 2.625 − x + xy³) (surfaces.base.Compiled's
# convention).
SQRT2 = math.sqrt(2.0)


@jit
def residuals(x, y, c):
    _, _, a, b, d = _parts(x, y)
    return SQRT2 * a, SQRT2 * b, SQRT2 * d


@jit
def jacobian(x, y, c):
    y2 = y * y
    return (
        SQRT2 * (y - 1),
        SQRT2 * x,
        SQRT2 * (y2 - 1),
        SQRT2 * (2 * x * y),
        SQRT2 * (y2 * y - 1),
        SQRT2 * (3 * x * y2),
    )


COMPILED = Compiled(f, grad, hess, residuals, jacobian)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="beale",
    title="Beale",
    build=build,
    help="Steep walls around a long flat channel; adaptive methods shine.",
)
