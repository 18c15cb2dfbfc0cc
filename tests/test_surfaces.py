"""Surfaces against the reference table: values, derivatives and every listed point."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest

from surfaces import SURFACES, get_surface
from surfaces.base import EXPRESSION_NAMES

# f at chosen points, computed by hand from surfaces.md. Several guard against the sign and
# constant errors of widely copied versions (Beale's "−xy²", Goldstein–Price's "4y").
KNOWN_VALUES = [
    ("quadratic", {}, (1.0, 1.0), 10.5),
    ("quadratic", {"a": 4.0, "b": 1.0, "angle": 90.0}, (1.0, 0.0), 0.5),
    ("rosenbrock", {}, (0.0, 0.0), 1.0),
    ("rosenbrock", {}, (-1.0, 2.0), 4.0 + 100.0),
    ("saddle", {}, (1.0, 2.0), -3.0),
    ("monkey_saddle", {}, (1.0, 1.0), -2.0),
    ("beale", {}, (1.0, 2.0), 6.25 + 27.5625 + 92.640625),
    ("himmelblau", {}, (0.0, 0.0), 170.0),
    ("rastrigin", {}, (1.0, 1.0), 2.0),
    ("rastrigin", {"A": 5.0}, (0.5, 0.0), 0.25 + 10.0),
    ("ackley", {}, (0.0, 0.0), 0.0),
    ("ackley", {}, (1.0, 0.0), -20 * math.exp(-0.2 * math.sqrt(0.5)) - math.exp(1.0) + math.e + 20),
    ("goldstein_price", {}, (0.0, 0.0), 600.0),
    ("goldstein_price", {}, (0.0, 1.0), 33.0 * 867.0),
    ("styblinski_tang", {}, (1.0, -1.0), 0.5 * ((1 - 16 + 5) + (1 - 16 - 5))),
    ("six_hump_camel", {}, (1.0, 1.0), (4 - 2.1 + 1 / 3) + 1 + 0.0),
]

# Points in the reference table (6 printed digits) with their values.
TABLE_POINTS = [
    ("himmelblau", (-2.805118, 3.131312), 0.0),
    ("himmelblau", (-3.779310, -3.283186), 0.0),
    ("himmelblau", (3.584428, -1.848126), 0.0),
    ("styblinski_tang", (-2.903534, -2.903534), -78.332331),
    ("six_hump_camel", (0.089842, -0.712656), -1.031628),
    ("six_hump_camel", (-0.089842, 0.712656), -1.031628),
]


@pytest.mark.parametrize(("name", "params", "point", "expected"), KNOWN_VALUES)
def test_value_at_known_points(name, params, point, expected):
    value = float(get_surface(name, **params).value(np.array(point)))
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(("name", "point", "expected"), TABLE_POINTS)
def test_table_points(name, point, expected):
    surface = get_surface(name)
    assert float(surface.value(np.array(point))) == pytest.approx(expected, abs=2e-6)
    assert any(np.allclose(m, point, atol=1e-6) for m in surface.minima)


def _random_points(surface, count=200, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.view
    return np.column_stack([rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)])


@pytest.mark.parametrize("name", list(SURFACES))
def test_gradient_matches_finite_differences(name):
    surface = get_surface(name)
    points = _random_points(surface)
    h = 1e-6
    for axis in range(2):
        shift = np.zeros(2)
        shift[axis] = h
        numeric = (surface.value(points + shift) - surface.value(points - shift)) / (2 * h)
        analytic = surface.gradient(points)[:, axis]
        scale = np.maximum(1.0, np.abs(surface.value(points)))
        assert np.max(np.abs(numeric - analytic) / scale) < 1e-5


@pytest.mark.parametrize("name", list(SURFACES))
def test_hessian_matches_finite_differences(name):
    surface = get_surface(name)
    points = _random_points(surface, seed=1)
    h = 1e-6
    hess = surface.hessian(points)
    assert np.allclose(hess[:, 0, 1], hess[:, 1, 0])
    for axis in range(2):
        shift = np.zeros(2)
        shift[axis] = h
        numeric = (surface.gradient(points + shift) - surface.gradient(points - shift)) / (2 * h)
        scale = np.maximum(1.0, np.abs(surface.gradient(points)).max(axis=1, keepdims=True))
        assert np.max(np.abs(numeric - hess[:, :, axis]) / scale) < 1e-4


@pytest.mark.parametrize("name", list(SURFACES))
def test_listed_minima_are_exact(name):
    surface = get_surface(name)
    for point in surface.minima:
        p = np.array(point)
        assert float(surface.value(p)) == pytest.approx(surface.f_star, abs=1e-12)
        assert np.max(np.abs(surface.gradient(p))) < 1e-9
        assert np.all(np.linalg.eigvalsh(surface.hessian(p)) > 0) or name == "ackley"
    if surface.f_star is None:
        assert surface.minima == ()


def test_himmelblau_local_maximum():
    surface = get_surface("himmelblau")
    (point,) = surface.maxima
    assert np.allclose(point, (-0.270845, -0.923039), atol=1e-6)
    assert float(surface.value(np.array(point))) == pytest.approx(181.617, abs=1e-3)
    assert np.all(np.linalg.eigvalsh(surface.hessian(np.array(point))) < 0)


@pytest.mark.parametrize("name", ["saddle", "monkey_saddle"])
def test_saddles_are_flat_and_not_minima(name):
    surface = get_surface(name)
    for point in surface.saddles:
        p = np.array(point)
        assert np.all(surface.gradient(p) == 0)
        assert surface.f_star is None


def test_ackley_origin_has_finite_derivatives():
    surface = get_surface("ackley")
    origin = np.zeros(2)
    assert np.all(surface.gradient(origin) == 0)
    assert np.all(np.isfinite(surface.hessian(origin)))


@pytest.mark.parametrize("name", list(SURFACES))
def test_vectorized_over_leading_axes(name):
    surface = get_surface(name)
    grid = _random_points(surface, count=12).reshape(3, 4, 2)
    assert surface.value(grid).shape == (3, 4)
    assert surface.gradient(grid).shape == (3, 4, 2)
    assert surface.hessian(grid).shape == (3, 4, 2, 2)
    assert np.allclose(surface.value(grid)[1, 2], surface.value(grid[1, 2]))


@pytest.mark.parametrize("name", list(SURFACES))
def test_default_start_is_inside_view_and_not_at_rest(name):
    surface = get_surface(name)
    (x0, x1), (y0, y1) = surface.view
    x, y = surface.default_start
    assert x0 <= x <= x1 and y0 <= y <= y1
    assert np.linalg.norm(surface.gradient(np.array(surface.default_start))) > 1e-3


def test_log_colour_where_values_span_decades():
    assert get_surface("goldstein_price").log_color
    assert get_surface("rosenbrock").log_color
    assert not get_surface("saddle").log_color


# Every surface with its defaults, and every surface with parameters at other settings.
EXPRESSION_CASES = [(name, {}) for name in SURFACES] + [
    ("quadratic", {"a": 3.5, "b": 0.2, "angle": 30.0}),
    ("quadratic", {"a": 50.0, "b": 2.0, "angle": -120.0}),
    ("quadratic", {"a": 7.0, "b": 0.5, "angle": 90.0}),
    ("quadratic", {"a": 0.01, "b": 1000.0, "angle": 180.0}),
    ("rastrigin", {"A": 3.7}),
    ("rastrigin", {"A": 0.0}),
]
EXPRESSION_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
)


def test_every_surface_with_parameters_has_other_expression_cases():
    with_params = {name for name, spec in SURFACES.items() if spec.params}
    assert with_params <= {name for name, params in EXPRESSION_CASES if params}


@pytest.mark.parametrize(("name", "params"), EXPRESSION_CASES, ids=str)
def test_expression_is_the_surface(name, params):
    """``expression`` (written out by "copy as PyTorch") is f, in the allowed vocabulary."""
    surface = get_surface(name, **params)
    tree = ast.parse(surface.expression, mode="eval")
    for node in ast.walk(tree):
        assert isinstance(node, EXPRESSION_NODES), ast.dump(node)
        if isinstance(node, ast.Name):
            assert node.id in ("x", "y", *EXPRESSION_NAMES)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name) and not node.keywords
        if isinstance(node, ast.Constant):
            assert type(node.value) in (int, float)

    (x0, x1), (y0, y1) = surface.view
    grid = np.stack(np.meshgrid(np.linspace(x0, x1, 41), np.linspace(y0, y1, 37)), axis=-1)
    points = np.concatenate([grid.reshape(-1, 2), _random_points(surface, seed=2)])
    names = {n: getattr(np, n) for n in EXPRESSION_NAMES}
    # Our own registry text, not user input: evaluating it here is the point of the test.
    code = compile(tree, f"<{name} expression>", "eval")
    got = eval(code, {"__builtins__": {}, **names, "x": points[:, 0], "y": points[:, 1]})
    np.testing.assert_allclose(got, surface.value(points), rtol=1e-12, atol=1e-12)


def test_two_wells_are_equally_deep_one_narrow_one_wide():
    """SAM's surface: both minima at f* = 0 to the last bits, the narrow one at least ten
    times as curved as the wide one, and the default start between them."""
    surface = get_surface("two_wells")
    narrow, wide = (np.array(p) for p in surface.minima)
    assert narrow[0] < surface.default_start[0] < wide[0]
    assert abs(float(surface.value(narrow)) - float(surface.value(wide))) <= 1e-15
    sharp = np.linalg.eigvalsh(surface.hessian(narrow))
    flat = np.linalg.eigvalsh(surface.hessian(wide))
    assert sharp.min() > 10 * flat.max() > 0
    (saddle,) = surface.saddles
    eig = np.linalg.eigvalsh(surface.hessian(np.array(saddle)))
    assert eig[0] < 0 < eig[1] and np.max(np.abs(surface.gradient(np.array(saddle)))) < 1e-12
    # Nothing else to settle in: gradient descent from a grid over the view ends in one of two.
    grid = _random_points(surface, count=300, seed=4)
    for _ in range(4000):
        grid = grid - 0.05 * surface.gradient(grid)
    ends = np.minimum(np.linalg.norm(grid - narrow, axis=1), np.linalg.norm(grid - wide, axis=1))
    assert ends.max() < 1e-6


def test_two_wells_compiled_hessian_is_the_arrays():
    from surfaces import two_wells

    rng = np.random.default_rng(5)
    for x, y in rng.uniform(-4, 4, size=(50, 2)):
        expected = get_surface("two_wells").hessian(np.array([x, y]))
        hxx, hxy, hyy = two_wells.hess(x, y, (0.0,) * 4)
        np.testing.assert_allclose(
            [hxx, hxy, hyy], expected[[0, 0, 1], [0, 1, 1]], rtol=1e-13, atol=1e-13
        )
