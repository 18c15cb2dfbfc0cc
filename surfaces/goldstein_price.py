"""Goldstein–Price: values spanning six decades around a minimum of 3 at (0, −1)."""

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix


def _parts(p):
    x, y = p[..., 0], p[..., 1]
    s = x + y + 1
    q = 19 - 14 * x + 3 * x * x - 14 * y + 6 * x * y + 3 * y * y
    t = 2 * x - 3 * y
    r = 18 - 32 * x + 12 * x * x + 48 * y - 36 * x * y + 27 * y * y
    return x, y, s, q, t, r, 1 + s * s * q, 30 + t * t * r


def value(p):
    *_, a, b = _parts(p)
    return a * b


def gradient(p):
    x, y, s, q, t, r, a, b = _parts(p)
    q_x = -14 + 6 * x + 6 * y  # equal to q_y
    r_x, r_y = -32 + 24 * x - 36 * y, 48 - 36 * x + 54 * y
    a_x = 2 * s * q + s * s * q_x
    b_x, b_y = 4 * t * r + t * t * r_x, -6 * t * r + t * t * r_y
    return pack(a_x * b + a * b_x, a_x * b + a * b_y)


def hessian(p):
    x, y, s, q, t, r, a, b = _parts(p)
    q_x = -14 + 6 * x + 6 * y
    r_x, r_y = -32 + 24 * x - 36 * y, 48 - 36 * x + 54 * y
    a_x = 2 * s * q + s * s * q_x
    a_xx = 2 * q + 4 * s * q_x + 6 * s * s  # a_xy and a_yy are equal to it: q_x = q_y
    b_x, b_y = 4 * t * r + t * t * r_x, -6 * t * r + t * t * r_y
    b_xx = 8 * r + 8 * t * r_x + 24 * t * t
    b_xy = -12 * r + 4 * t * r_y - 6 * t * r_x - 36 * t * t
    b_yy = 18 * r - 12 * t * r_y + 54 * t * t
    hxx = a_xx * b + 2 * a_x * b_x + a * b_xx
    hxy = a_xx * b + a_x * b_y + a_x * b_x + a * b_xy
    hyy = a_xx * b + 2 * a_x * b_y + a * b_yy
    return pack_matrix(hxx, hxy, hyy)


def build() -> Surface:
    return Surface(
        name="goldstein_price",
        title="Goldstein–Price",
        latex=r"f(x, y) = \left[1 + (x+y+1)^2(19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
        r"\left[30 + (2x-3y)^2(18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression=(
            "(1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2))"
            " * (30 + (2 * x - 3 * y) ** 2"
            " * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2))"
        ),
        view=((-2.0, 2.0), (-2.0, 2.0)),
        default_start=(-1.2, 1.3),
        minima=((0.0, -1.0),),
        log_color=True,
        f_star=3.0,
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def _gp(x, y):
    s = x + y + 1
    q = 19 - 14 * x + 3 * x * x - 14 * y + 6 * x * y + 3 * y * y
    t = 2 * x - 3 * y
    r = 18 - 32 * x + 12 * x * x + 48 * y - 36 * x * y + 27 * y * y
    return s, q, t, r, 1 + s * s * q, 30 + t * t * r


@jit
def f(x, y, c):
    _, _, _, _, a, b = _gp(x, y)
    return a * b


@jit
def grad(x, y, c):
    s, q, t, r, a, b = _gp(x, y)
    q_x = -14 + 6 * x + 6 * y
    r_x, r_y = -32 + 24 * x - 36 * y, 48 - 36 * x + 54 * y
    a_x = 2 * s * q + s * s * q_x
    b_x, b_y = 4 * t * r + t * t * r_x, -6 * t * r + t * t * r_y
    return a_x * b + a * b_x, a_x * b + a * b_y


@jit
def hess(x, y, c):
    s, q, t, r, a, b = _gp(x, y)
    q_x = -14 + 6 * x + 6 * y
    r_x, r_y = -32 + 24 * x - 36 * y, 48 - 36 * x + 54 * y
    a_x = 2 * s * q + s * s * q_x
    a_xx = 2 * q + 4 * s * q_x + 6 * s * s
    b_x, b_y = 4 * t * r + t * t * r_x, -6 * t * r + t * t * r_y
    b_xx = 8 * r + 8 * t * r_x + 24 * t * t
    b_xy = -12 * r + 4 * t * r_y - 6 * t * r_x - 36 * t * t
    b_yy = 18 * r - 12 * t * r_y + 54 * t * t
    hxx = a_xx * b + 2 * a_x * b_x + a * b_xx
    hxy = a_xx * b + a_x * b_y + a_x * b_x + a * b_xy
    hyy = a_xx * b + 2 * a_x * b_y + a * b_yy
    return hxx, hxy, hyy


COMPILED = Compiled(f, grad, hess)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="goldstein_price",
    title="Goldstein–Price",
    build=build,
    help="Huge gradients far out and tiny ones near the minimum; shows why scale matters.",
)
