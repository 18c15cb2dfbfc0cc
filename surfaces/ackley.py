"""Ackley: a nearly flat outer region, ripples, and a sharp cone at the origin."""

import math

import numpy as np

from common.jit import jit
from surfaces.base import Compiled, Surface, SurfaceSpec, pack, pack_matrix

TWO_PI = 2 * math.pi


def _radius(p):
    x, y = p[..., 0], p[..., 1]
    return x, y, np.sqrt(0.5 * (x * x + y * y))


def value(p):
    x, y, r = _radius(p)
    ripple = np.exp(0.5 * (np.cos(TWO_PI * x) + np.cos(TWO_PI * y)))
    return -20 * np.exp(-0.2 * r) - ripple + math.e + 20


def gradient(p):
    """At the cone's tip the gradient is undefined; we return the ripple part only (zero)."""
    x, y, r = _radius(p)
    safe_r = np.where(r > 0, r, 1.0)
    cone = np.where(r > 0, 2 * np.exp(-0.2 * r) / safe_r, 0.0)
    ripple = math.pi * np.exp(0.5 * (np.cos(TWO_PI * x) + np.cos(TWO_PI * y)))
    return pack(cone * x + ripple * np.sin(TWO_PI * x), cone * y + ripple * np.sin(TWO_PI * y))


def hessian(p):
    """The cone's curvature is infinite at the tip; there only the ripple part is returned."""
    x, y, r = _radius(p)
    safe_r = np.where(r > 0, r, 1.0)
    e = np.exp(-0.2 * safe_r)
    g = np.where(r > 0, 2 * e / safe_r, 0.0)
    dg = np.where(r > 0, -2 * e * (0.2 * safe_r + 1) / (safe_r * safe_r), 0.0) / (2 * safe_r)
    ripple = math.pi**2 * np.exp(0.5 * (np.cos(TWO_PI * x) + np.cos(TWO_PI * y)))
    sx, sy = np.sin(TWO_PI * x), np.sin(TWO_PI * y)
    cx, cy = np.cos(TWO_PI * x), np.cos(TWO_PI * y)
    hxx = g + x * x * dg + ripple * (2 * cx - sx * sx)
    hxy = x * y * dg - ripple * sx * sy
    hyy = g + y * y * dg + ripple * (2 * cy - sy * sy)
    return pack_matrix(hxx, hxy, hyy)


def build() -> Surface:
    return Surface(
        name="ackley",
        title="Ackley",
        latex=r"f(x, y) = -20\,e^{-0.2\sqrt{\frac{1}{2}(x^2+y^2)}}"
        r" - e^{\frac{1}{2}(\cos 2\pi x + \cos 2\pi y)} + e + 20",
        params={},
        value=value,
        gradient=gradient,
        hessian=hessian,
        expression=(
            "-20 * exp(-0.2 * sqrt(0.5 * (x**2 + y**2)))"
            " - exp(0.5 * (cos(2 * pi * x) + cos(2 * pi * y))) + e + 20"
        ),
        view=((-5.0, 5.0), (-5.0, 5.0)),
        default_start=(3.2, 2.4),
        minima=((0.0, 0.0),),
        f_star=0.0,
    )


# Compiled, one point at a time: what the engine's oracle evaluates (same operations, in
# the same order, as the array functions above).
@jit
def _ripple(x, y):
    return math.exp(0.5 * (math.cos(TWO_PI * x) + math.cos(TWO_PI * y)))


@jit
def f(x, y, c):
    r = math.sqrt(0.5 * (x * x + y * y))
    return -20 * math.exp(-0.2 * r) - _ripple(x, y) + math.e + 20


@jit
def grad(x, y, c):
    r = math.sqrt(0.5 * (x * x + y * y))
    cone = 2 * math.exp(-0.2 * r) / r if r > 0 else 0.0
    ripple = math.pi * _ripple(x, y)
    return cone * x + ripple * math.sin(TWO_PI * x), cone * y + ripple * math.sin(TWO_PI * y)


@jit
def hess(x, y, c):
    r = math.sqrt(0.5 * (x * x + y * y))
    safe_r = r if r > 0 else 1.0
    e = math.exp(-0.2 * safe_r)
    g = 2 * e / safe_r if r > 0 else 0.0
    dg = (-2 * e * (0.2 * safe_r + 1) / (safe_r * safe_r) if r > 0 else 0.0) / (2 * safe_r)
    ripple = math.pi**2 * _ripple(x, y)
    sx, sy = math.sin(TWO_PI * x), math.sin(TWO_PI * y)
    cx, cy = math.cos(TWO_PI * x), math.cos(TWO_PI * y)
    hxx = g + x * x * dg + ripple * (2 * cx - sx * sx)
    hxy = x * y * dg - ripple * sx * sy
    hyy = g + y * y * dg + ripple * (2 * cy - sy * sy)
    return hxx, hxy, hyy


COMPILED = Compiled(f, grad, hess)

SPEC = SurfaceSpec(
    compiled=COMPILED,
    name="ackley",
    title="Ackley",
    build=build,
    help="A ripple field around a deep funnel; local minima trap small steps.",
)
