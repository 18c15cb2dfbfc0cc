"""Styblinski–Tang: four basins of different depth; the global one is at (−2.9035, −2.9035)."""

import numpy as np

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix, refine_point


def value(p):
    x, y = p[..., 0], p[..., 1]
    return 0.5 * ((x**4 - 16 * x * x + 5 * x) + (y**4 - 16 * y * y + 5 * y))


def gradient(p):
    x, y = p[..., 0], p[..., 1]
    return pack(2 * x**3 - 16 * x + 2.5, 2 * y**3 - 16 * y + 2.5)


def hessian(p):
    x, y = p[..., 0], p[..., 1]
    return pack_matrix(6 * x * x - 16, np.zeros(np.shape(x)), 6 * y * y - 16)


MINIMUM = refine_point(gradient, hessian, (-2.903534, -2.903534))
F_STAR = float(value(np.array(MINIMUM)))


def build() -> Surface:
    return Surface(
        name="styblinski_tang",
        title="Styblinski–Tang",
        latex=r"f(x, y) = \tfrac{1}{2}\sum_{i}\left(x_i^4 - 16x_i^2 + 5x_i\right)",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression="0.5 * ((x**4 - 16 * x**2 + 5 * x) + (y**4 - 16 * y**2 + 5 * y))",
        view=((-5.0, 5.0), (-5.0, 5.0)),
        # Between the shallow and the deep basin: the first steps decide the outcome.
        default_start=(0.5, 4.5),
        minima=(MINIMUM,),
        f_star=F_STAR,
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def f(x, y, c):
    return 0.5 * ((x**4.0 - 16 * x * x + 5 * x) + (y**4.0 - 16 * y * y + 5 * y))


@jit
def grad(x, y, c):
    return 2 * x**3.0 - 16 * x + 2.5, 2 * y**3.0 - 16 * y + 2.5


@jit
def hess(x, y, c):
    return 6 * x * x - 16, 0.0, 6 * y * y - 16


COMPILED = Compiled(f, grad, hess)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="styblinski_tang",
    title="Styblinski–Tang",
    build=build,
    help="Four basins of unequal depth: reaching the deepest one takes the right start.",
)
