"""What the browser receives: a race in a compact, finite, JSON-safe form.

Arrays travel as plotly's typed-array objects ``{"dtype": "f4", "bdata": <base64>}``: float32
is ample for drawing (the leaderboard's numbers travel as exact floats), a quarter the size of
decimal text, and both plotly.js and our playback script decode it without parsing numbers.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from optimizers.race import RacerResult
from surfaces.base import Surface

# Okabe–Ito: distinguishable with the common colour-vision deficiencies and on a projector.
COLORS = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#0072B2", "#F0E442", "#000000")
MARKERS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "pentagon")
# Line patterns (Plotly's names; the map's canvas draws the same), so that no racer is told
# apart by colour alone.
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")
# Losses are drawn on a log axis as f − f*; a gap of exactly 0 is shown at this floor.
GAP_FLOOR = 1e-30
GRID = 90


def typed(values: np.ndarray) -> dict[str, str]:
    """A float32 typed-array object (plotly.js ≥ 2.28 reads it as is)."""
    data = np.ascontiguousarray(values, dtype="<f4")
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
    lr = result.lr
    return {
        "label": result.label,
        "optimizer": result.optimizer,
        "n": len(result.path),
        "x": typed(result.path[:, 0]),
        "y": typed(result.path[:, 1]),
        "loss": typed(loss_gap(result.loss, f_star)),
        "lr": typed(lr) if len(lr) else None,
        "diverged_at": result.diverged_at,
        "steps_to_tol": result.steps_to_tol,
        "final_loss": result.final_loss,
        "best_loss": result.best_loss,
    }


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
        low, span = float(np.nanmin(z)), float(np.nanmax(z) - np.nanmin(z))
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
        "height": height,
        "view": [list(surface.view[0]), list(surface.view[1])],
        "minima": [list(p) for p in surface.minima],
        "saddles": [list(p) for p in surface.saddles],
        "f_star": surface.f_star,
    }
