"""Six-hump camel: six local minima, two of them global and mirror images."""

import numpy as np

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix, refine_point


def value(p):
    x, y = p[..., 0], p[..., 1]
    x2, y2 = x * x, y * y
    return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (-4 + 4 * y2) * y2


def gradient(p):
    x, y = p[..., 0], p[..., 1]
    return pack(8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3)


def hessian(p):
    x, y = p[..., 0], p[..., 1]
    return pack_matrix(8 - 25.2 * x * x + 10 * x**4, np.ones(np.shape(x)), -8 + 48 * y * y)


MINIMA = tuple(
    refine_point(gradient, hessian, p) for p in ((0.089842, -0.712656), (-0.089842, 0.712656))
)
F_STAR = min(float(value(np.array(p))) for p in MINIMA)


def build() -> Surface:
    return Surface(
        name="six_hump_camel",
        title="Six-hump camel",
        latex=r"f(x, y) = \left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (-4 + 4y^2)\,y^2",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression="(4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2",
        view=((-3.0, 3.0), (-2.0, 2.0)),
        default_start=(-1.5, -1.0),
        minima=MINIMA,
        f_star=F_STAR,
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def f(x, y, c):
    x2, y2 = x * x, y * y
    return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (-4 + 4 * y2) * y2


@jit
def grad(x, y, c):
    return 8 * x - 8.4 * x**3.0 + 2 * x**5.0 + y, x - 8 * y + 16 * y**3.0


@jit
def hess(x, y, c):
    return 8 - 25.2 * x * x + 10 * x**4.0, 1.0, -8 + 48 * y * y


COMPILED = Compiled(f, grad, hess)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="six_hump_camel",
    title="Six-hump camel",
    build=build,
    help="Several shallow local minima around two global ones.",
)
