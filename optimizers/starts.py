"""Many starts: one optimizer from a grid or a random cloud of starts, grouped by the basin
each run ends in.

A run's basin is the listed minimum its final point lies near (within 5% of the view's span);
a run that ends elsewhere (a local minimum the surface does not list, like Rastrigin's, or a
point it has not yet settled from) joins the nearest other end point within 2% of the span,
so the groups are the places runs actually end.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.batch import run_batch
from optimizers.config import RaceConfig
from optimizers.race import default_label
from surfaces import get_surface
from surfaces.base import Surface

KNOWN_RADIUS = 0.05
CLUSTER_RADIUS = 0.02


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

    def to_json(self) -> dict[str, Any]:
        return {
            "point": list(self.point),
            "loss": self.loss,
            "count": self.count,
            "listed": self.listed,
        }


@dataclass(frozen=True)
class ManyStarts:
    label: str
    optimizer: str
    layout: str
    starts: np.ndarray
    paths: np.ndarray  # (steps+1, runs, 2), NaN after a run diverged
    lengths: np.ndarray
    basin: np.ndarray  # index into ``basins``, −1 for a diverged run
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
                None if b < 0 else p.tolist() for b, p in zip(self.basin, finals, strict=True)
            ],
            "basin": self.basin.tolist(),
            "basins": [b.to_json() for b in self.basins],
            "diverged": int((self.basin < 0).sum()),
        }


def assign_basins(
    surface: Surface, finals: np.ndarray, diverged: np.ndarray
) -> tuple[np.ndarray, tuple[Basin, ...]]:
    """Group end points by the minimum (listed, or found) they lie near; lowest loss first."""
    (x0, x1), (y0, y1) = surface.view
    span = max(x1 - x0, y1 - y0)
    centres: list[np.ndarray] = []
    listed: list[bool] = []
    label = np.full(len(finals), -1)
    minima = np.array(surface.minima, dtype=float).reshape(-1, 2)
    for i, point in enumerate(finals):
        if diverged[i]:
            continue
        if len(minima):
            d = np.hypot(*(minima - point).T)
            j = int(np.argmin(d))
            if d[j] <= KNOWN_RADIUS * span:
                key = next(
                    (c for c, p in enumerate(centres) if listed[c] and (p == minima[j]).all()),
                    None,
                )
                if key is None:
                    centres.append(minima[j])
                    listed.append(True)
                    key = len(centres) - 1
                label[i] = key
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
        )
        for c in order
    )
    return np.array([rank[c] if c >= 0 else -1 for c in label]), basins


def many_starts(
    config: RaceConfig, index: int, layout: str, count: int, seed: int = 0
) -> ManyStarts:
    """Racer ``index`` of ``config`` from every start of the layout, in one batch."""
    surface = get_surface(config.surface.name, **config.surface.params)
    starts = start_points(surface, layout, count, seed)
    racer = config.racers[index]
    single = dataclasses.replace(config, racers=(racer,))
    batch = run_batch(single, starts=starts)
    traj = batch.trajectories
    runs = len(starts)
    lengths = np.array([traj.length(i) for i in range(runs)])
    valid = np.arange(traj.points.shape[0])[:, None] < lengths[None, :]
    paths = np.where(valid[..., None], traj.points, np.nan)
    diverged = traj.diverged_at > 0
    basin, basins = assign_basins(surface, paths[lengths - 1, np.arange(runs)], diverged)
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
