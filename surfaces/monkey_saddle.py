"""x³ − 3xy²: a degenerate saddle (all second derivatives vanish at the origin)."""

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix


def value(p):
    x, y = p[..., 0], p[..., 1]
    return x**3 - 3 * x * y * y


def gradient(p):
    x, y = p[..., 0], p[..., 1]
    return pack(3 * x * x - 3 * y * y, -6 * x * y)


def hessian(p):
    x, y = p[..., 0], p[..., 1]
    return pack_matrix(6 * x, -6 * y, -6 * x)


def build() -> Surface:
    return Surface(
        name="monkey_saddle",
        title="Monkey saddle",
        latex=r"f(x, y) = x^3 - 3\,x\,y^2",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression="x**3 - 3 * x * y * y",
        view=((-1.5, 1.5), (-1.5, 1.5)),
        # On a ridge heading into the flat origin: curvature gives no signal there.
        default_start=(1.0, 0.2),
        saddles=((0.0, 0.0),),
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def f(x, y, c):
    return x**3.0 - 3 * x * y * y


@jit
def grad(x, y, c):
    return 3 * x * x - 3 * y * y, -6 * x * y


@jit
def hess(x, y, c):
    return 6 * x, -6 * y, -6 * x


COMPILED = Compiled(f, grad, hess)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="monkey_saddle",
    title="Monkey saddle",
    build=build,
    help="Three valleys meet at a flat point where second-order information is zero.",
)
