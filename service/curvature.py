"""What the step inspector shows about curvature, for the racers that use it (issue 17, item 3).

For ``newton``, ``gauss_newton``, ``lbfgs`` and ``gd_line_search`` racers, at every step's
starting point θ with the gradient g the racer saw (the trace's, noise included):

* the curvature matrix M: the Hessian H, or JᵀJ for Gauss–Newton on a sum of squares, with its
  eigenvalues (ascending) and unit eigenvectors;
* the local quadratic model m(p) = f + gᵀp + ½pᵀMp and its level set through θ (m = f): in M's
  eigenbasis about the model's stationary point c = θ − M⁻¹g it reads λ₁u₁² + λ₂u₂² = gᵀM⁻¹g,
  an ellipse where det M > 0 and a hyperbola where M is indefinite (none where M is singular);
* the Newton step −M⁻¹g (to c) against the gradient step: −g with the length that minimises
  the model along it (Cauchy's, gᵀg / gᵀMg; none where the model is not convex along −g);
* for line searches (gd_line_search, lbfgs with strong Wolfe) the slice φ(t) = f(θ + t·d): its
  samples, φ(0), φ′(0), the Armijo line φ(0) + c1·t·φ′(0), where |φ′(t)| ≤ c2·|φ′(0)| (strong
  Wolfe's curvature band) and the trials the search evaluated, on the ray.

The trials are the engine's own probes (``Trajectories.probes``: every point the step
evaluated), read from one more recorded run of the racer alone, so the page draws what the
race did. Pure NumPy on the surface's functions: no Dash, and nothing in optimizers/.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optimizers.config import RaceConfig
from optimizers.engine import MAX_PROBES
from optimizers.trace import NUMBER, NUMBERS, PAIR, PAIRS, Trace
from surfaces import SURFACES, get_surface
from surfaces.base import Surface
from surfaces.compiled import evaluate_residuals

# Racers whose step uses curvature (a Hessian, JᵀJ or a line search).
CURVATURE = ("newton", "gauss_newton", "lbfgs", "gd_line_search")
# |det M| at most this times M's squared size counts as singular: no model level set.
SINGULAR = 1e-12
# φ(t) samples per step, and the steps that get a slice (a trace has at most 5,000 steps; the
# slices of the first SLICE_STEPS keep a trace well under the inspector cache's 1 MB).
SAMPLES = 33
BAND_SAMPLES = 257
SLICE_STEPS = 300
# torch's _strong_wolfe defaults, which torch.optim.LBFGS uses (optimizers/lbfgs.py).
LBFGS_C1, LBFGS_C2 = 1e-4, 0.9


NULLABLE_PAIR = {**PAIR, "nullable": True}
SLICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "description": "φ(t) = f(θ + t·d) along the step's search direction (null: no slice)",
    "additionalProperties": False,
    "required": [
        "end",
        "phi",
        "phi0",
        "slope0",
        "band",
        "trials",
        "trial_phi",
        "evaluated",
        "accepted",
    ],
    "properties": {
        "end": {**NUMBER, "description": "φ is sampled at evenly spaced t in [0, end]"},
        "phi": NUMBERS,
        "phi0": NUMBER,
        "slope0": {**NUMBER, "description": "φ′(0)"},
        "band": {**PAIRS, "description": "[t, t] intervals where |φ′(t)| ≤ c2·|φ′(0)|"},
        "trials": {**NUMBERS, "description": "the t of every trial the search evaluated"},
        "trial_phi": NUMBERS,
        "evaluated": {"type": "integer", "minimum": 0},
        "accepted": {**NUMBER, "description": "the t the step took"},
    },
}
# The JSON Schema (OpenAPI 3.0 dialect) of ``curvature``'s answer: /api/inspect's
# ``curvature`` (web/openapi.py); tests/test_curvature_view.py validates views against it.
CURVATURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "description": "the step inspector's curvature view, per step (null: a first-order racer)",
    "additionalProperties": False,
    "required": [
        "matrix_name",
        "eigenvalues",
        "eigenvectors",
        "newton_step",
        "cauchy_step",
        "level",
        "level_set",
        "line_search",
    ],
    "properties": {
        "matrix_name": {"type": "string", "description": "H, or JᵀJ for Gauss–Newton"},
        "eigenvalues": {**PAIRS, "description": "ascending"},
        "eigenvectors": {"type": "array", "items": {**PAIRS, "minItems": 2, "maxItems": 2}},
        "newton_step": {"type": "array", "items": NULLABLE_PAIR},
        "cauchy_step": {"type": "array", "items": NULLABLE_PAIR},
        "level": {"type": "array", "items": {**NUMBER, "nullable": True}},
        "level_set": {
            "type": "array",
            "items": {"type": "string", "enum": ["ellipse", "hyperbola", "none"]},
        },
        "line_search": {
            "type": "object",
            "nullable": True,
            "additionalProperties": False,
            "required": ["search", "c1", "c2", "direction", "slice_steps", "slices"],
            "properties": {
                "search": {"type": "string"},
                "c1": NUMBER,
                "c2": NUMBER,
                "direction": {"type": "string"},
                "slice_steps": {"type": "integer", "minimum": 0},
                "slices": {"type": "array", "items": SLICE_SCHEMA},
            },
        },
    },
}


def _sig(values: np.ndarray, digits: int = 10) -> np.ndarray:
    """``values`` to ``digits`` significant digits: the page shows 3, and a 5,000-step trace's
    view is a third smaller in JSON than with all 17 (each is the double nearest its decimal,
    so it prints short)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(all="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(v))))
        out = np.round(v * scale) / scale
    return np.where(np.isfinite(out) & (v != 0), out, v)


def _finite(values: np.ndarray) -> list[Any]:
    """Rows as lists, with a row holding any non-finite number as None (JSON has no NaN)."""
    return [row.tolist() if np.all(np.isfinite(row)) else None for row in _sig(values)]


def _short(values: np.ndarray) -> list[float]:
    """Slice samples to 7 significant digits: what a chart needs, a third of the bytes."""
    return [float(f"{v:.7g}") for v in values]


def matrices(surface: Surface, points: np.ndarray, optimizer: str) -> tuple[np.ndarray, str]:
    """(n, 2, 2) curvature matrices at ``points`` and what they are: JᵀJ for Gauss–Newton
    (the surface's compiled Jacobian, the one its kernel uses), else the Hessian H."""
    if optimizer == "gauss_newton" and SURFACES[surface.name].compiled.jacobian is not None:
        _, j = evaluate_residuals(surface, np.ascontiguousarray(points, dtype=float))
        return np.einsum("nmi,nmj->nij", j, j), "JᵀJ"
    return np.asarray(surface.hessian(points), dtype=float).reshape(-1, 2, 2), "H"


def quadratic_model(m: np.ndarray, g: np.ndarray) -> dict[str, Any]:
    """Eigen-decomposition, Newton and Cauchy steps, and the model's level set through θ, per
    row of ``m`` (n, 2, 2) and ``g`` (n, 2)."""
    lam, vec = np.linalg.eigh(m)  # ascending; vec[:, :, k] is the k-th eigenvector
    det = lam[:, 0] * lam[:, 1]
    size = np.maximum(np.abs(lam).max(axis=1), np.finfo(float).tiny)
    singular = np.abs(det) <= SINGULAR * size * size
    with np.errstate(all="ignore"):
        # M⁻¹g in the eigenbasis: divide each component by its eigenvalue.
        gv = np.einsum("nik,ni->nk", vec, g)
        newton = -np.einsum("nik,nk->ni", vec, gv / lam)
        newton[singular] = np.nan
        level = -np.einsum("ni,ni->n", g, newton)  # gᵀM⁻¹g
        curv = np.einsum("ni,nij,nj->n", g, m, g)
        cauchy = -(np.einsum("ni,ni->n", g, g) / curv)[:, None] * g
        cauchy[~(curv > 0)] = np.nan
    kind = np.where(singular, "none", np.where(det > 0, "ellipse", "hyperbola"))
    return {
        "eigenvalues": _sig(lam).tolist(),
        "eigenvectors": _sig(vec.transpose(0, 2, 1)).tolist(),  # row k: the k-th eigenvector
        "newton_step": _finite(newton),
        "cauchy_step": _finite(cauchy),
        "level": [float(v) if math.isfinite(v) else None for v in _sig(level)],
        "level_set": kind.tolist(),
    }


def band(t: np.ndarray, flat: np.ndarray) -> list[list[float]]:
    """The runs of ``flat`` samples as [t, t] intervals, each reaching half a sample spacing
    past its end samples (the boundary lies somewhere between two samples)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flat.astype(int), [0]])))
    half = (t[1] - t[0]) / 2
    return [
        [float(max(t[a] - half, t[0])), float(min(t[b - 1] + half, t[-1]))]
        for a, b in zip(edges[::2], edges[1::2], strict=True)
    ]


def _search(racer: Any) -> tuple[str, float, float, float] | None:
    """(search, c1, c2, Armijo's shrink) of a racer that line-searches, else None."""
    params = racer.params
    if racer.optimizer == "gd_line_search":
        return params["search"], params["c1"], params["c2"], params["shrink"]
    if racer.optimizer == "lbfgs" and params["line_search_fn"] == "strong_wolfe":
        return "strong_wolfe", LBFGS_C1, LBFGS_C2, 0.0
    return None


def line_slices(
    surface: Surface,
    trace: Trace,
    search: tuple[str, float, float, float],
) -> dict[str, Any]:
    """φ(t) = f(θ + t·d) for each of the first SLICE_STEPS steps. d is the search direction:
    −g for gradient descent (t is the racer's step length), the step taken for L-BFGS (t = 1
    is where it went). The trials are the step's probes after its first (θ itself), as t;
    φ is sampled from 0 to 2.5 times the accepted step."""
    name, c1, c2, shrink = search
    probes, counts = trace.probes, trace.probe_counts  # the engine's record of the step
    n = min(len(trace.gradient), SLICE_STEPS)
    theta, g = trace.path[:n], trace.gradient[:n]
    taken = trace.path[1 : n + 1] - theta
    d = -g if trace.optimizer == "gd_line_search" else taken
    dd = np.einsum("ni,ni->n", d, d)
    usable = dd > 0
    safe = np.where(usable, dd, 1.0)[:, None, None]
    rays = probes[:n, 1:] - theta[:, None, :]
    trial_t = np.einsum("nki,ni->nk", rays, d) / safe[:, :, 0]
    step_t = np.einsum("ni,ni->n", taken, d) / safe[:, 0, 0]
    shown = np.minimum(counts[:n] - 1, MAX_PROBES - 1)
    trials = [trial_t[i, : max(shown[i], 0)] for i in range(n)]
    if trace.optimizer == "gd_line_search" and name == "armijo":
        # The engine keeps MAX_PROBES points a step; backtracking's trials are t₀·shrinkᵏ
        # (linesearch.armijo), so all of them follow from the first and the count.
        for i in range(n):
            if counts[i] - 1 > len(trials[i]) and len(trials[i]) > 0:
                more = [float(trials[i][0])]
                for _ in range(counts[i] - 2):
                    more.append(more[-1] * shrink)
                trials[i] = np.array(more)
    # The slice ends a little past the accepted step (past Armijo's trial before it, twice
    # as far); trials further out are listed beside the chart, not drawn.
    most = np.array([max([*trials[i], 0.0]) for i in range(n)])
    end = np.where(step_t > 0, 2.5 * step_t, 1.1 * most)
    end = np.where(end > 0, end, 1.0)
    t = end[:, None] * np.linspace(0.0, 1.0, SAMPLES)[None, :]
    pts = theta[:, None, :] + t[:, :, None] * d[:, None, :]
    # The curvature band from BAND_SAMPLES slopes: a narrow valley's band is narrow.
    fine = end[:, None] * np.linspace(0.0, 1.0, BAND_SAMPLES)[None, :]
    with np.errstate(all="ignore"):
        phi = surface.value(pts)
        along = theta[:, None, :] + fine[:, :, None] * d[:, None, :]
        slope = np.einsum("nsi,ni->ns", surface.gradient(along), d)
    out = []
    for i in range(n):
        ok = usable[i] and np.all(np.isfinite(phi[i])) and np.all(np.isfinite(slope[i]))
        if not ok:
            out.append(None)
            continue
        out.append(
            {
                "end": float(end[i]),  # φ is sampled at SAMPLES evenly spaced t in [0, end]
                "phi": _short(phi[i]),
                "phi0": float(phi[i, 0]),
                "slope0": float(slope[i, 0]),
                # Strong Wolfe's curvature band: where the slope is flat enough.
                "band": band(fine[i], np.abs(slope[i]) <= c2 * abs(slope[i, 0])),
                "trials": trials[i].tolist(),
                "trial_phi": _sig(surface.value(theta[i] + trials[i][:, None] * d[i])).tolist(),
                "evaluated": int(counts[i]) - 1,
                "accepted": float(step_t[i]),
            }
        )
    return {
        "search": name,
        "c1": c1,
        "c2": c2,
        "direction": "−g" if trace.optimizer == "gd_line_search" else "the step taken",
        "slice_steps": n,
        "slices": out,
    }


def curvature(config: RaceConfig, index: int, trace: Trace) -> dict[str, Any] | None:
    """The inspector's curvature view for racer ``index`` (None for first-order racers):
    per step of ``trace`` (the racer's own record), the model at its starting point, and the
    line-search slice where the racer searches."""
    racer = config.racers[index]
    if racer.optimizer not in CURVATURE:
        return None
    surface = get_surface(config.surface.name, **config.surface.params)
    n = len(trace.gradient)
    theta, g = trace.path[:n], trace.gradient[:n]
    with np.errstate(all="ignore"):
        m, what = matrices(surface, theta, racer.optimizer)
    finite = np.all(np.isfinite(m.reshape(n, 4)), axis=1)
    m = np.where(finite[:, None, None], m, 0.0)  # a non-finite matrix is shown as singular
    out: dict[str, Any] = {
        "matrix_name": what,
        **quadratic_model(m, g),
        "line_search": None,
    }
    search = _search(racer)
    if search is not None and n > 0:
        out["line_search"] = line_slices(surface, trace, search)
    return out
