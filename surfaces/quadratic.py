"""½(a·u² + b·v²), (u, v) the point rotated by ``angle``: the ravine lessons start from."""

import math

import numpy as np

from common.jit import jit
from common.params import Param
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix


def _combine(p: float, first: str, q: float, second: str) -> str:
    """p·first + q·second as source, the sign of q folded into the operator (same value)."""
    sign = "-" if math.copysign(1.0, q) < 0 else "+"
    return f"{p!r} * {first} {sign} {abs(q)!r} * {second}"


def build(a: float = 20.0, b: float = 1.0, angle: float = 0.0) -> Surface:
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # Exact zeros for the axis-aligned case keep angle 0 identical to ½(a x² + b y²).
    if angle % 180 == 0:
        c, s = (1.0 if angle % 360 == 0 else -1.0), 0.0

    def rotate(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = p[..., 0], p[..., 1]
        return c * x - s * y, s * x + c * y

    def value(p: np.ndarray) -> np.ndarray:
        u, v = rotate(p)
        return 0.5 * (a * u * u + b * v * v)

    def gradient(p: np.ndarray) -> np.ndarray:
        u, v = rotate(p)
        au, bv = a * u, b * v
        return pack(c * au + s * bv, c * bv - s * au)

    hxx, hxy, hyy = a * c * c + b * s * s, (b - a) * c * s, a * s * s + b * c * c

    def hessian(p: np.ndarray) -> np.ndarray:
        shape = np.shape(p)[:-1]
        return pack_matrix(np.full(shape, hxx), np.full(shape, hxy), np.full(shape, hyy))

    # ½a·u² + ½b·v²; halving is exact, and on the axes autograd then gives a·x exactly.
    if s == 0:
        expression = f"{a / 2!r} * x**2 + {b / 2!r} * y**2"
    else:
        u, v = _combine(c, "x", -s, "y"), _combine(s, "x", c, "y")
        expression = f"{a / 2!r} * ({u}) ** 2 + {b / 2!r} * ({v}) ** 2"

    return Surface(
        name="quadratic",
        title="Ill-conditioned quadratic",
        latex=r"f(x, y) = \tfrac{1}{2}\left(a\,u^2 + b\,v^2\right),\ "
        r"(u, v) = R_{\theta}\,(x, y)",
        params={"a": a, "b": b, "angle": angle},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression=expression,
        view=((-2.0, 2.0), (-2.0, 2.0)),
        default_start=(1.0, 1.0),
        minima=((0.0, 0.0),),
        log_color=True,
        f_star=0.0,
        constants=(a, b, c, s),
        residuals=(
            f"{math.sqrt(a)!r} * ({_combine(c, 'x', -s, 'y')})",
            f"{math.sqrt(b)!r} * ({_combine(s, 'x', c, 'y')})",
        ),
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def f(x, y, c):
    a, b, co, si = c[0], c[1], c[2], c[3]
    u, v = co * x - si * y, si * x + co * y
    return 0.5 * (a * u * u + b * v * v)


@jit
def grad(x, y, c):
    a, b, co, si = c[0], c[1], c[2], c[3]
    u, v = co * x - si * y, si * x + co * y
    au, bv = a * u, b * v
    return co * au + si * bv, co * bv - si * au


@jit
def hess(x, y, c):
    a, b, co, si = c[0], c[1], c[2], c[3]
    return a * co * co + b * si * si, (b - a) * co * si, a * si * si + b * co * co


# f = ½‖r‖² with r = (√a·u, √b·v) (surfaces.base.Compiled's convention; a, b > 0).
@jit
def residuals(x, y, c):
    a, b, co, si = c[0], c[1], c[2], c[3]
    u, v = co * x - si * y, si * x + co * y
    return math.sqrt(a) * u, math.sqrt(b) * v, 0.0


@jit
def jacobian(x, y, c):
    ra, rb, co, si = math.sqrt(c[0]), math.sqrt(c[1]), c[2], c[3]
    return ra * co, -ra * si, rb * si, rb * co, 0.0, 0.0


COMPILED = Compiled(f, grad, hess, residuals, jacobian)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="quadratic",
    title="Ill-conditioned quadratic",
    build=build,
    params=(
        Param("a", 20.0, low=0.01, high=1000.0, scale="log", help="curvature along u (steep)"),
        Param("b", 1.0, low=0.01, high=1000.0, scale="log", help="curvature along v (flat)"),
        Param("angle", 0.0, low=-180.0, high=180.0, help="rotation of the valley, degrees"),
    ),
    help="A ravine: the condition number a/b decides how much plain SGD zig-zags.",
)
