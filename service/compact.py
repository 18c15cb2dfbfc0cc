"""What the browser receives: a race in a compact, finite, JSON-safe form.

Arrays travel as plotly's typed-array objects ``{"dtype": "f4", "bdata": <base64>}``: float32
is ample for drawing (the leaderboard's numbers travel as exact floats), a quarter the size of
decimal text, and both plotly.js and our playback script decode it without parsing numbers.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from optimizers.fan import NoisyFan, sampled_steps
from optimizers.race import RacerResult
from optimizers.registry import OPTIMIZERS
from optimizers.starts import ManyStarts
from surfaces.base import Surface

# Okabe–Ito: distinguishable with the common colour-vision deficiencies and on a projector.
# Ordered so that the first four (the usual race) and any two neighbours differ most, also as
# viewers with protanopia, deuteranopia or tritanopia see them, and so that the first four stand
# out from every colour of the map (tests/test_palette.py measures it). Pink, close to the
# map's valleys, and yellow, close to its heights, come last.
COLORS = ("#0072B2", "#E69F00", "#56B4E9", "#000000", "#009E73", "#D55E00", "#CC79A7", "#F0E442")
# The map's colours: Viridis (ordered, safe for colour-blind viewers) mixed halfway with white,
# so that the racers' saturated colours stand out against it.
MAP_COLORSCALE = (
    (0.0, "#a180a9"),
    (0.25, "#9da8c5"),
    (0.5, "#90c8c5"),
    (0.75, "#aee4b0"),
    (1.0, "#fef392"),
)
MARKERS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "pentagon")
# Line patterns (Plotly's names; the map's canvas draws the same), so that no racer is told
# apart by colour alone.
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")
# Losses are drawn on a log axis as f − f*; a gap of exactly 0 is shown at this floor.
GAP_FLOOR = 1e-30
GRID = 90
# Faint copies (noisy runs, many starts) are drawn from at most optimizers.fan.COPY_POINTS
# points per run (``sampled_steps``, defined there: a fan keeps only those).
# A noisy racer's loss band: more points than a chart is wide would be bytes nobody sees.
BAND_POINTS = 256


def typed(values: np.ndarray) -> dict[str, str]:
    """A float32 typed-array object (plotly.js ≥ 2.28 reads it as is). Values beyond float32's
    range (a gradient norm of 1e300 just before a run diverges) are clipped to it, so no
    Infinity reaches the browser."""
    big = np.finfo(np.float32).max
    data = np.ascontiguousarray(np.clip(values, -big, big), dtype="<f4")
    return {"dtype": "f4", "bdata": base64.b64encode(data.tobytes()).decode("ascii")}


def decode(obj: dict[str, str]) -> np.ndarray:
    """The inverse of ``typed`` (tests and the bench use it)."""
    return np.frombuffer(base64.b64decode(obj["bdata"]), dtype="<f4")


def style(index: int) -> dict[str, str]:
    """A racer's colour, marker and line pattern, fixed by its index so they never jump when
    others change."""
    return {
        "color": COLORS[index % len(COLORS)],
        "marker": MARKERS[index % len(MARKERS)],
        "dash": DASHES[index % len(DASHES)],
    }


def loss_gap(loss: np.ndarray, f_star: float | None) -> np.ndarray:
    """What the loss chart plots: f − f* on a log axis when f* is known, else f itself."""
    if f_star is None:
        return loss
    return np.maximum(loss - f_star, GAP_FLOOR)


def compact_racer(result: RacerResult, f_star: float | None) -> dict[str, Any]:
    """One racer's drawable history plus its leaderboard numbers."""
    lr, spec = result.lr, OPTIMIZERS[result.optimizer]
    return {
        "label": result.label,
        "optimizer": result.optimizer,
        "n": len(result.path),
        "x": typed(result.path[:, 0]),
        "y": typed(result.path[:, 1]),
        "loss": typed(loss_gap(result.loss, f_star)),
        "lr": typed(lr) if len(lr) else None,
        # What ``lr`` holds when the optimizer estimates its own rate (Prodigy: "d·lr"): the
        # leaderboard then shows it at the playhead. None: the scheduled rate.
        "rate_name": spec.card.rate_name if spec.kernel.shown_rate is not None else None,
        # The lower chart's other choices: ‖x_k − x_{k−1}‖ and ‖g_k‖ per step (float64 here:
        # float32 positions could not resolve steps below ~1e-7).
        "step_length": typed(np.hypot(*np.diff(result.path, axis=0).T)) if len(lr) else None,
        "grad_norm": typed(result.grad_norm) if len(lr) else None,
        "diverged_at": result.diverged_at,
        "steps_to_tol": result.steps_to_tol,
        # The work clock: gradient evaluations done before each point (optimizers.oracle's
        # cost model); whole and half numbers, exact in float32.
        "work": typed(result.work),
        "work_to_tol": result.work_to_tol,
        "final_loss": result.final_loss,
        "best_loss": result.best_loss,
        # Where the optimizer's own rule stopped it (L-BFGS's tolerances), as in the API.
        "stopped": result.stopped_json(),
    }


def compact_copies(
    paths: np.ndarray, lengths: np.ndarray, steps: np.ndarray | None = None
) -> dict[str, Any]:
    """Many runs' paths, thinned to ``sampled_steps``: each run keeps the sampled steps it
    reached (its points before divergence), all runs' points end to end in one array.
    ``paths`` holds every step, or (with ``steps``) only those steps, already thinned."""
    if steps is None:
        steps = sampled_steps(paths.shape[0] - 1)
        paths = paths[steps]
    counts = [int((steps < n).sum()) for n in lengths]
    xs = np.concatenate([paths[:c, r, 0] for r, c in enumerate(counts)])
    ys = np.concatenate([paths[:c, r, 1] for r, c in enumerate(counts)])
    return {"steps": steps.tolist(), "n": counts, "x": typed(xs), "y": typed(ys)}


def compact_fan(fan: NoisyFan, f_star: float | None) -> dict[str, Any]:
    """A racer's noisy runs for the page: the median path, the loss band (quartiles) and faint
    copies of every run, with the final-loss summary the leaderboard shows."""
    median = fan.median_path()
    quartiles = fan.loss_quantiles((0.25, 0.5, 0.75))
    band = sampled_steps(quartiles.shape[1] - 1, BAND_POINTS)
    q25, q50, q75 = quartiles[:, band]
    return {
        **fan.summary(),
        "seeds": [fan.seeds[0], fan.seeds[-1]],
        "n": len(median),
        "x": typed(median[:, 0]),
        "y": typed(median[:, 1]),
        "band_steps": band.tolist(),
        "loss_q25": typed(loss_gap(q25, f_star)),
        "loss_median": typed(loss_gap(q50, f_star)),
        "loss_q75": typed(loss_gap(q75, f_star)),
        "copies": compact_copies(fan.copies, fan.lengths, fan.copy_steps),
    }


def compact_starts(result: ManyStarts) -> dict[str, Any]:
    """The many-starts view: starts, ends and basins as JSON, the paths thinned and typed."""
    return result.to_json() | {"paths": compact_copies(result.paths, result.lengths)}


def surface_payload(surface: Surface, grid: int = GRID) -> dict[str, Any]:
    """The contour grid and marked points of a surface, sent once per surface change."""
    (x0, x1), (y0, y1) = surface.view
    xs, ys = np.linspace(x0, x1, grid), np.linspace(y0, y1, grid)
    points = np.stack(np.meshgrid(xs, ys), axis=-1)
    with np.errstate(all="ignore"):
        z = surface.value(points)
    z = np.where(np.isfinite(z), z, np.nan)
    # Colours (and the 3-D view's heights) by decade above the lowest value on the grid:
    # valleys stay readable. The browser maps a path's losses to heights the same way.
    height = {"log": False, "low": 0.0, "offset": 0.0}
    if surface.log_color:
        # Decades of f − f* where f* is known (the colour bar says so), else above the grid's
        # lowest value.
        grid_low = float(np.nanmin(z))
        low = grid_low if surface.f_star is None else min(surface.f_star, grid_low)
        span = float(np.nanmax(z) - low)
        height = {"log": True, "low": low, "offset": max(span * 1e-6, 1e-12)}
        z = np.log10(z - low + height["offset"])
    z = np.nan_to_num(z, nan=float(np.nanmax(z)))
    return {
        "name": surface.name,
        "title": surface.title,
        "latex": surface.latex,
        "x": typed(xs),
        "y": typed(ys),
        "z": typed(z.ravel()),
        "grid": grid,
        "log": surface.log_color,
        "colorscale": [list(stop) for stop in MAP_COLORSCALE],
        "height": height,
        "view": [list(surface.view[0]), list(surface.view[1])],
        "minima": [list(p) for p in surface.minima],
        "saddles": [list(p) for p in surface.saddles],
        "f_star": surface.f_star,
    }
