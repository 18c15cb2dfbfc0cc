"""x² − y²: a saddle, where the gradient vanishes but the point is no minimum."""

import numpy as np

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix


def value(p: np.ndarray) -> np.ndarray:
    x, y = p[..., 0], p[..., 1]
    return x * x - y * y


def gradient(p: np.ndarray) -> np.ndarray:
    return pack(2 * p[..., 0], -2 * p[..., 1])


def hessian(p: np.ndarray) -> np.ndarray:
    shape = np.shape(p)[:-1]
    return pack_matrix(np.full(shape, 2.0), np.zeros(shape), np.full(shape, -2.0))


def build() -> Surface:
    return Surface(
        name="saddle",
        title="Saddle",
        latex=r"f(x, y) = x^2 - y^2",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression="x**2 - y**2",
        view=((-2.0, 2.0), (-2.0, 2.0)),
        # Just off the ridge: racers slide to the saddle and must then escape along y.
        default_start=(-1.5, 0.01),
        saddles=((0.0, 0.0),),
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def f(x, y, c):
    return x * x - y * y


@jit
def grad(x, y, c):
    return 2 * x, -2 * y


@jit
def hess(x, y, c):
    return 2.0, 0.0, -2.0


COMPILED = Compiled(f, grad, hess)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="saddle",
    title="Saddle",
    build=build,
    help="Unbounded below; shows how long each optimizer lingers near a saddle point.",
)
