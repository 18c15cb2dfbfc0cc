"""Rastrigin: a bowl covered in ripples, with a local minimum near every integer point."""

import math

import numpy as np

from common.jit import jit
from common.params import Param
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix

TWO_PI = 2 * math.pi


def build(A: float = 10.0) -> Surface:
    def value(p):
        x, y = p[..., 0], p[..., 1]
        return 2 * A + (x * x - A * np.cos(TWO_PI * x)) + (y * y - A * np.cos(TWO_PI * y))

    def gradient(p):
        x, y = p[..., 0], p[..., 1]
        k = TWO_PI * A
        return pack(2 * x + k * np.sin(TWO_PI * x), 2 * y + k * np.sin(TWO_PI * y))

    def hessian(p):
        x, y = p[..., 0], p[..., 1]
        k = TWO_PI * TWO_PI * A
        return pack_matrix(
            2 + k * np.cos(TWO_PI * x), np.zeros(np.shape(x)), 2 + k * np.cos(TWO_PI * y)
        )

    return Surface(
        name="rastrigin",
        title="Rastrigin",
        latex=r"f(x, y) = 2A + \sum_{i}\left(x_i^2 - A\cos 2\pi x_i\right)",
        params={"A": A},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression=f"{2 * A!r} + (x**2 - {A!r} * cos(2 * pi * x))"
        f" + (y**2 - {A!r} * cos(2 * pi * y))",
        view=((-5.12, 5.12), (-5.12, 5.12)),
        # Far out on the ripples: most racers stop in a local minimum on the way in.
        default_start=(-3.3, 2.8),
        minima=((0.0, 0.0),),
        f_star=0.0,
        constants=(A,),
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def f(x, y, c):
    a = c[0]
    return 2 * a + (x * x - a * math.cos(TWO_PI * x)) + (y * y - a * math.cos(TWO_PI * y))


@jit
def grad(x, y, c):
    k = TWO_PI * c[0]
    return 2 * x + k * math.sin(TWO_PI * x), 2 * y + k * math.sin(TWO_PI * y)


@jit
def hess(x, y, c):
    k = TWO_PI * TWO_PI * c[0]
    return 2 + k * math.cos(TWO_PI * x), 0.0, 2 + k * math.cos(TWO_PI * y)


COMPILED = Compiled(f, grad, hess)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="rastrigin",
    title="Rastrigin",
    build=build,
    params=(Param("A", 10.0, low=0.0, high=50.0, help="height of the ripples (0: a plain bowl)"),),
    help="Many local minima; noise and large steps can hop between them.",
)
