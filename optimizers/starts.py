"""Many starts: one optimizer from a grid or a random cloud of starts, grouped by the basin
each run ends in.

A basin is only claimed where runs have come to rest, so the view never calls a place a run
happens to pass through at the last step a minimum:

* a run belongs to a listed minimum when it has stayed within 5% of the view's span of it for
  the last tenth of the race (a noisy run hovering at the minimum counts; a run bouncing
  across the surface that passes near it at the end does not);
* elsewhere, a run has settled when, at its end, its last step is below ``STEP_TOL`` × the
  span, its gradient is small for the curvature there (the Newton step ‖H⁻¹g‖, the distance
  the local quadratic model puts the minimum at, is below ``NEWTON_TOL`` × the span) and the
  curvature has no downhill or flat direction (a run resting on a saddle has not found a
  minimum). Settled runs whose ends lie within 2% of the span of each other form one found
  basin, placed at its lowest end point. With noise, runs jitter and only the first rule can
  hold;
* a run at rest (the same two tests, whatever the curvature) within 5% of the span of a
  maximum or saddle the surface lists is in that point's basin (``Basin.kind``): plain
  Newton's method comes to rest on maxima and saddles, and its basin map says so;
* every other run is still moving (``MOVING``), and diverged runs are ``DIVERGED``: neither
  is a basin.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.batch import run_batch
from optimizers.config import RaceConfig
from optimizers.engine import Record
from optimizers.race import default_label
from surfaces import get_surface
from surfaces.base import Surface

KNOWN_RADIUS = 0.05
CLUSTER_RADIUS = 0.02
SETTLE_SHARE = 0.1  # the last tenth of the race: how long a run must stay at a listed minimum
NEWTON_TOL = 1e-4  # × the view's span: how far the local quadratic model puts the minimum
STEP_TOL = 1e-4  # × the view's span: the run's last step
DIVERGED = -1
MOVING = -2


def start_points(surface: Surface, layout: str, count: int, seed: int) -> np.ndarray:
    """(n, 2) starts over the surface's view: an n×n grid of cell centres (n = ⌊√count⌋) or
    ``count`` uniform random points from ``seed``."""
    (x0, x1), (y0, y1) = surface.view
    if layout == "grid":
        n = math.isqrt(count)
        xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
        ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
        return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)])


@dataclass(frozen=True)
class Basin:
    point: tuple[float, float]
    loss: float
    count: int
    listed: bool
    kind: str = "minimum"  # or, for a listed point only, "maximum" or "saddle"

    def to_json(self) -> dict[str, Any]:
        return {
            "point": list(self.point),
            "loss": self.loss,
            "count": self.count,
            "listed": self.listed,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class ManyStarts:
    label: str
    optimizer: str
    layout: str
    starts: np.ndarray
    paths: np.ndarray  # (steps+1, runs, 2), NaN after a run diverged
    lengths: np.ndarray
    basin: np.ndarray  # index into ``basins``; DIVERGED or MOVING for runs in no basin
    basins: tuple[Basin, ...]

    @property
    def finals(self) -> np.ndarray:
        return self.paths[self.lengths - 1, np.arange(len(self.lengths))]

    def to_json(self) -> dict[str, Any]:
        finals = self.finals
        return {
            "label": self.label,
            "optimizer": self.optimizer,
            "layout": self.layout,
            "starts": self.starts.tolist(),
            "finals": [
                None if b == DIVERGED else p.tolist()
                for b, p in zip(self.basin, finals, strict=True)
            ],
            "basin": self.basin.tolist(),
            "basins": [b.to_json() for b in self.basins],
            "diverged": int((self.basin == DIVERGED).sum()),
            "moving": int((self.basin == MOVING).sum()),
        }


def _span(surface: Surface) -> float:
    (x0, x1), (y0, y1) = surface.view
    return max(x1 - x0, y1 - y0)


def at_listed_minimum(
    surface: Surface, paths: np.ndarray, lengths: np.ndarray, resting: np.ndarray
) -> np.ndarray:
    """Per run, the index of the listed minimum it has stayed near for the last tenth of the
    race, or rests near at its end (−1 for none): near it at the end is not enough, a
    bouncing run passes by."""
    runs = len(lengths)
    found = np.full(runs, -1)
    minima = np.array(surface.minima, dtype=float).reshape(-1, 2)
    if not len(minima):
        return found
    radius = KNOWN_RADIUS * _span(surface)
    window = max(2, math.ceil(SETTLE_SHARE * (paths.shape[0] - 1)))
    for run in range(runs):
        tail = paths[max(0, lengths[run] - (1 if resting[run] else window)) : lengths[run], run]
        d = np.hypot(*(tail[:, None, :] - minima[None, :, :]).transpose(2, 0, 1))
        near = (d <= radius).all(axis=0)
        if near.any():
            found[run] = int(np.argmin(np.where(near, d[-1], np.inf)))
    return found


def settled(surface: Surface, finals: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Per run, whether it has come to rest at a minimum: its last step is short and its
    gradient is small for the curvature there, that is the local quadratic model puts a
    minimum within ``NEWTON_TOL`` of the span (the Newton step ‖H⁻¹g‖). A gradient measured
    this way needs no scale of its own: a run crawling along Rosenbrock's flat valley has a
    small gradient but a long way to go, and the curvature along the valley says so."""
    resting, bowl = _at_rest(surface, finals, before)
    return resting & bowl


def _at_rest(surface: Surface, finals: np.ndarray, before: np.ndarray) -> tuple[Any, Any]:
    """Per run, (at rest at a stationary point: ``settled``'s tests but the curvature's, no
    downhill or flat direction there)."""
    span = _span(surface)
    step = np.hypot(*(finals - before).T)
    with np.errstate(all="ignore"):
        grad = np.nan_to_num(surface.gradient(finals), nan=np.inf)
        hess = np.nan_to_num(surface.hessian(finals))
        eig, vec = np.linalg.eigh(hess)
        # g in the Hessian's eigenbasis, divided by each curvature: the Newton step.
        along = np.einsum("nij,ni->nj", vec, grad)
        newton = np.hypot(*(along / eig).T)
    bowl = eig[:, 0] > 0  # no downhill or flat direction: a minimum, not a saddle
    resting = (np.nan_to_num(newton, nan=np.inf) <= NEWTON_TOL * span) & (step <= STEP_TOL * span)
    return resting, bowl


def listed_points(surface: Surface) -> tuple[np.ndarray, list[str]]:
    """The surface's listed minima, maxima and saddles, (n, 2), and each one's kind."""
    groups = (("minimum", surface.minima), ("maximum", surface.maxima), ("saddle", surface.saddles))
    kinds = [kind for kind, points in groups for _ in points]
    points = [p for _, group in groups for p in group]
    return np.array(points, dtype=float).reshape(-1, 2), kinds


def at_listed_critical(surface: Surface, finals: np.ndarray, resting: np.ndarray) -> np.ndarray:
    """Per run, the index (in ``listed_points``) of the listed maximum or saddle it rests
    near at its end (−1: none)."""
    points, kinds = listed_points(surface)
    found = np.full(len(finals), -1)
    critical = np.array([kind != "minimum" for kind in kinds], dtype=bool)
    if not critical.any():
        return found
    d = np.hypot(*(finals[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    d = np.where(critical[None, :], d, np.inf)
    near = resting & (d.min(axis=1) <= KNOWN_RADIUS * _span(surface))
    found[near] = np.argmin(d[near], axis=1)
    return found


def assign_basins(
    surface: Surface, finals: np.ndarray, status: np.ndarray, listed_at: np.ndarray
) -> tuple[np.ndarray, tuple[Basin, ...]]:
    """Group the runs that came to rest by the point (listed, or a minimum found) they rest
    at; lowest loss first. ``status`` is DIVERGED, MOVING or 0 (at rest) per run;
    ``listed_at`` the listed point (index in ``listed_points``: the listed minima come
    first) a run stays at (−1: none)."""
    span = _span(surface)
    minima, kinds = listed_points(surface)
    centres: list[np.ndarray] = []
    listed: list[bool] = []
    kind: list[str] = []
    label = status.copy()
    for i, point in enumerate(finals):
        if listed_at[i] >= 0:
            j = int(listed_at[i])
            key = next(
                (c for c, p in enumerate(centres) if listed[c] and (p == minima[j]).all()), None
            )
            if key is None:
                centres.append(minima[j])
                listed.append(True)
                kind.append(kinds[j])
                key = len(centres) - 1
            label[i] = key
            continue
        if status[i] < 0:
            continue
        near = [
            c
            for c, p in enumerate(centres)
            if not listed[c] and np.hypot(*(p - point)) <= CLUSTER_RADIUS * span
        ]
        if near:
            label[i] = near[0]
        else:
            centres.append(point.copy())
            listed.append(False)
            kind.append("minimum")
            label[i] = len(centres) - 1
    # A found basin is placed at the lowest end point in it: the best estimate of its minimum.
    points = []
    for c, centre in enumerate(centres):
        members = finals[label == c]
        if listed[c]:
            points.append(centre)
        else:
            points.append(members[np.argmin(surface.value(members))])
    losses = [float(surface.value(np.asarray(p))) for p in points]
    order = sorted(range(len(centres)), key=lambda c: (losses[c], not listed[c]))
    rank = {c: r for r, c in enumerate(order)}
    basins = tuple(
        Basin(
            point=(float(points[c][0]), float(points[c][1])),
            loss=losses[c],
            count=int((label == c).sum()),
            listed=listed[c],
            kind=kind[c],
        )
        for c in order
    )
    return np.array([rank[c] if c >= 0 else c for c in label]), basins


def many_starts(
    config: RaceConfig, index: int, layout: str, count: int, seed: int = 0
) -> ManyStarts:
    """Racer ``index`` of ``config`` from every start of the layout, in one batch."""
    surface = get_surface(config.surface.name, **config.surface.params)
    starts = start_points(surface, layout, count, seed)
    racer = config.racers[index]
    single = dataclasses.replace(config, racers=(racer,))
    batch = run_batch(single, starts=starts, record=Record.POINTS)
    traj = batch.trajectories
    runs = np.arange(len(starts))
    lengths = traj.ends
    paths = traj.points  # NaN after each run's end
    finals = paths[lengths - 1, runs]
    before = paths[np.maximum(lengths - 2, 0), runs]
    diverged = traj.diverged_at > 0
    status = np.where(diverged, DIVERGED, MOVING)
    alive = ~diverged
    resting, bowl = _at_rest(surface, finals, before)
    status[alive & resting & bowl] = 0
    listed_at = np.where(alive, at_listed_minimum(surface, paths, lengths, status == 0), -1)
    critical = at_listed_critical(surface, finals, alive & resting & ~bowl & (listed_at < 0))
    listed_at = np.where(critical >= 0, critical, listed_at)
    status[critical >= 0] = 0
    basin, basins = assign_basins(surface, finals, status, listed_at)
    return ManyStarts(
        label=racer.label or default_label(racer),
        optimizer=racer.optimizer,
        layout=layout,
        starts=starts,
        paths=paths,
        lengths=lengths,
        basin=basin,
        basins=basins,
    )
