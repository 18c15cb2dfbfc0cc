"""Rosenbrock's banana: finding the valley is easy, following its curve to (1, 1) is not."""

import math

import numpy as np

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix


def value(p: np.ndarray) -> np.ndarray:
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


# The gradient runs once per step of every race on this surface. NumPy 2 takes about twice as
# long over an operation with a Python number as with a 0-d array (scalar conversion and
# promotion), so its constants are 0-d arrays. Same values, same results bit for bit.
ONE, MINUS_TWO, K200, K400 = (np.array(c) for c in (1.0, -2.0, 200.0, 400.0))


def gradient(p: np.ndarray) -> np.ndarray:
    x, y = p[..., 0], p[..., 1]
    r = y - x * x
    return pack(MINUS_TWO * (ONE - x) - K400 * x * r, K200 * r)


def hessian(p: np.ndarray) -> np.ndarray:
    x, y = p[..., 0], p[..., 1]
    return pack_matrix(2 - 400 * y + 1200 * x * x, -400 * x, np.full(np.shape(x), 200.0))


def build() -> Surface:
    return Surface(
        name="rosenbrock",
        title="Rosenbrock",
        latex=r"f(x, y) = (1 - x)^2 + 100\,(y - x^2)^2",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression="(1 - x) ** 2 + 100 * (y - x**2) ** 2",
        view=((-2.0, 2.0), (-1.0, 3.0)),
        # Left arm of the banana: racers must turn the whole curve to reach (1, 1).
        default_start=(-1.5, 2.0),
        minima=((1.0, 1.0),),
        log_color=True,
        f_star=0.0,
        residuals=(f"{SQRT2!r} * (1 - x)", f"{SQRT2!r} * (10 * (y - x * x))"),
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def f(x, y, c):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


@jit
def grad(x, y, c):
    r = y - x * x
    return -2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r


@jit
def hess(x, y, c):
    return 2 - 400 * y + 1200 * x * x, -400 * x, 200.0


# f = ½‖r‖² with r = √2·(1 − x, 10(y − x²)) (surfaces.base.Compiled's convention).
SQRT2 = math.sqrt(2.0)


@jit
def residuals(x, y, c):
    return SQRT2 * (1 - x), SQRT2 * (10 * (y - x * x)), 0.0


@jit
def jacobian(x, y, c):
    return -SQRT2, 0.0, SQRT2 * (-20 * x), SQRT2 * 10.0, 0.0, 0.0


COMPILED = Compiled(f, grad, hess, residuals, jacobian)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="rosenbrock",
    title="Rosenbrock",
    build=build,
    help="A curved, flat-bottomed valley: momentum helps, a single global rate struggles.",
)
