"""The engine core: many runs of many optimizers advanced together, one step at a time.

NumPy costs about a quarter of a microsecond per call however small the array, so the design
keeps calls per step low rather than arithmetic low:

* runs of one optimizer that take the same code path form a group, stored as a contiguous
  slice of one (runs, 2) array, and advance in one call to the optimizer's ``step``;
* everything that depends on the step number only (rates, cycled momentum, noise) is
  computed for the whole horizon before the first step;
* losses, gradient norms, divergence and arrival are computed after the last step, vectorized
  over the whole trajectory. A run that blows up keeps computing NaN harmlessly until then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.numpy_engine.base import OptimizerSpec
from bench.numpy_engine.registry import OPTIMIZERS
from optimizers.config import RacerConfig
from optimizers.schedules import schedule_values
from surfaces.base import Surface

# torch.nn.utils.clip_grad_norm_ adds this to the norm before dividing.
CLIP_EPS = 1e-6


@dataclass(frozen=True)
class Trajectories:
    """Every run's full history, in the order the runs were given.

    ``points`` and ``losses`` hold steps+1 rows (x_0 … x_N); ``lrs`` and ``grad_norms`` one row
    per step. Rows at and after a run's ``diverged_at`` are meaningless (and may be NaN):
    ``diverged_at`` is 0 for runs that never diverged, ``steps_to_tol`` −1 for runs that never
    arrived.
    """

    points: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    grad_norms: np.ndarray
    diverged_at: np.ndarray
    steps_to_tol: np.ndarray

    def length(self, run: int) -> int:
        """Number of valid points of ``run`` (steps+1 unless it diverged)."""
        k = int(self.diverged_at[run])
        return k if k else self.points.shape[0]


class _Group:
    """Runs of one optimizer family on one code path: a slice of the batch and their state."""

    def __init__(
        self,
        spec: OptimizerSpec,
        members: list[int],
        position: slice,
        racers: Sequence[RacerConfig],
        lr: np.ndarray,
        cycled: np.ndarray | None,
        path_flags: dict[str, bool | str],
        masks: dict[str, np.ndarray],
        starts: np.ndarray,
    ) -> None:
        self.spec = spec
        self.position = position
        self.hp: dict[str, Any] = dict(masks)
        for p in spec.params:
            if p.kind == "bool":
                continue
            values = [racers[i].params[p.name] for i in members]
            if p.kind == "pair":
                pair = np.array(values, dtype=float)
                self.hp["beta1"], self.hp["beta2"] = pair[:, :1].copy(), pair[:, 1:].copy()
            else:
                self.hp[p.name] = np.array(values, dtype=float)[:, None]
        self.lr = lr[:, :, None]
        over_time = dict(self.hp, lr=self.lr, neg_lr=-self.lr)
        if cycled is not None:
            over_time[spec.cycles] = cycled
        self.flags = {**path_flags, **spec.flags(over_time)}
        if spec.prepare is not None:
            t = np.arange(1, self.lr.shape[0] + 1, dtype=float)[:, None, None]
            over_time.update(spec.prepare(over_time, t, self.flags))
        # Values that change over the run are handed to `step` one row per step; a value
        # with the same row at every step (a constant rate) is handed once. Every value is
        # stored at the full (runs, 2) shape: NumPy takes ~2-4x longer on a tiny operation
        # that broadcasts a (runs, 1) column or a Python scalar than on equal shapes.
        runs = position.stop - position.start
        self.per_step = []
        for name, value in over_time.items():
            if np.ndim(value) == 3 and not (value == value[:1]).all():
                self.per_step.append((name, _full(value, (self.lr.shape[0], runs, 2))))
            else:
                self.hp[name] = _full(value[0] if np.ndim(value) == 3 else value, (runs, 2))
        self.state = spec.init(starts[position], {k: v[0] for k, v in self.per_step} | self.hp)


def _full(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` broadcast to ``shape`` and stored contiguously (same numbers, faster steps)."""
    return np.ascontiguousarray(np.broadcast_to(value, shape))


def _schedules(
    racers: Sequence[RacerConfig], steps: int
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Rates (steps, runs) and each cycled run's momentum (steps,), one call per schedule."""
    rates = np.empty((steps, len(racers)))
    momentum: dict[int, np.ndarray] = {}
    by_schedule: dict[str, list[int]] = {}
    for i, racer in enumerate(racers):
        key = json.dumps(racer.schedule.to_json(), sort_keys=True)
        by_schedule.setdefault(key, []).append(i)
    for members in by_schedule.values():
        schedule = racers[members[0]].schedule
        base = np.array([racers[i].lr for i in members])
        lr, cycled = schedule_values(schedule.name, schedule.params, base, steps)
        rates[:, members] = lr
        if cycled is not None:
            for i in members:
                if OPTIMIZERS[racers[i].optimizer].cycles is not None:
                    momentum[i] = cycled
    return rates, momentum


def _groups(
    racers: Sequence[RacerConfig], steps: int, starts: np.ndarray
) -> tuple[list[_Group], np.ndarray, np.ndarray]:
    rates, momentum = _schedules(racers, steps)
    keyed: dict[tuple, list[int]] = {}
    run_flags: list[dict[str, bool]] = []
    for i, racer in enumerate(racers):
        spec = OPTIMIZERS[racer.optimizer]
        flags = spec.path_flags(racer.params, i in momentum)
        run_flags.append(flags)
        fixed = tuple(sorted((k, v) for k, v in flags.items() if k not in spec.mixable))
        keyed.setdefault((spec.kernel, fixed), []).append(i)
    order = np.array([i for members in keyed.values() for i in members], dtype=np.intp)
    ordered_starts = starts[order]
    groups, offset = [], 0
    for members in keyed.values():
        spec = OPTIMIZERS[racers[members[0]].optimizer]
        path_flags, masks = _merged_flags([run_flags[i] for i in members])
        position = slice(offset, offset + len(members))
        cycled = None
        if any(i in momentum for i in members):
            static = [
                racers[i].params["betas"][0]
                if spec.cycles == "beta1"
                else racers[i].params[spec.cycles]
                for i in members
            ]
            cycled = (
                np.array(
                    [
                        momentum[i] if i in momentum else np.full(steps, s)
                        for i, s in zip(members, static, strict=True)
                    ]
                )
                .T[:, :, None]
                .copy()
            )
        groups.append(
            _Group(
                spec,
                members,
                position,
                racers,
                rates[:, members],
                cycled,
                path_flags,
                masks,
                ordered_starts,
            )
        )
        offset += len(members)
    return groups, order, rates[:, order]


def _merged_flags(
    flags: list[dict[str, bool]],
) -> tuple[dict[str, bool | str], dict[str, np.ndarray]]:
    """A group's path flags: each run's common value, or "mixed" plus a 1/0 column per run."""
    merged: dict[str, bool | str] = {}
    masks: dict[str, np.ndarray] = {}
    for name, first in flags[0].items():
        values = [f[name] for f in flags]
        if all(v == first for v in values):
            merged[name] = first
        else:
            merged[name] = "mixed"
            masks[f"is_{name}"] = np.array(values, dtype=float)[:, None]
    return merged, masks


def _norms(g: np.ndarray) -> np.ndarray:
    """L2 norm over the last axis, summed in the order torch's vector_norm uses."""
    return np.sqrt(g[..., 0] * g[..., 0] + g[..., 1] * g[..., 1])


def simulate(
    surface: Surface,
    racers: Sequence[RacerConfig],
    starts: np.ndarray,
    steps: int,
    noise: np.ndarray | None = None,
    tol: float = 1e-6,
    observe: Callable[[int, np.ndarray, np.ndarray, list[_Group]], None] | None = None,
) -> Trajectories:
    """Run every racer from its start for ``steps`` steps in one pass.

    ``starts`` is (runs, 2). ``noise``, if given, is added to the gradient: shape (steps, 2)
    for noise common to all runs, or (steps, runs, 2) for a noise sequence per run.
    ``observe(t, raw, g, groups)``, if given, is called after step t with the gradient (noise
    added), the one the optimizers saw (clipped; runs in group order) and the groups holding
    their state after the step: the step inspector reads the engine's own state this way.
    """
    runs = len(racers)
    starts = np.asarray(starts, dtype=float).reshape(runs, 2)
    groups, order, rates = _groups(racers, steps, starts)
    if noise is not None and noise.ndim == 3:
        noise = noise[:, order]
    clip = np.array([r.clip_norm or np.inf for r in racers])[order][:, None]
    clipping = bool(np.isfinite(clip).any())

    points = np.empty((steps + 1, runs, 2))
    grads = np.empty((steps, runs, 2))
    points[0] = starts[order]
    gradient = surface.gradient
    # The current points and the gradient the optimizers see live in two buffers, so that each
    # group's slice of them is a view made once rather than twice per step.
    x, g = points[0].copy(), np.empty((runs, 2))
    slices = [(group, x[group.position], g[group.position]) for group in groups]
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            raw = gradient(x)
            if noise is not None:
                raw += noise[t - 1]
            grads[t - 1] = raw
            if clipping:
                raw = raw * np.minimum(clip / (_norms(raw)[:, None] + CLIP_EPS), 1.0)
            g[...] = raw
            for group, mine, seen in slices:  # inlined: a method call per group costs too
                hp = group.hp
                for name, values in group.per_step:
                    hp[name] = values[t - 1]
                mine[...], group.state = group.spec.step(
                    mine, seen, group.state, hp, t, group.flags
                )
            points[t] = x
            if observe is not None:
                observe(t, grads[t - 1], g, groups)

        losses = surface.value(points)
        norms = _norms(grads)
        low, high = surface.divergence_box()
        ok = np.isfinite(losses) & np.all((points > low) & (points < high), axis=-1)
        ok[1:] &= np.isfinite(norms)
    bad = ~ok
    diverged = np.where(bad.any(axis=0), bad.argmax(axis=0), 0)
    if surface.f_star is None:
        arrived = np.full(runs, -1)
    else:
        valid = np.arange(steps + 1)[:, None] < np.where(diverged > 0, diverged, steps + 1)
        reached = valid & (losses - surface.f_star <= tol)
        arrived = np.where(reached.any(axis=0), reached.argmax(axis=0), -1)

    inverse = np.argsort(order)
    return Trajectories(
        points=points[:, inverse],
        losses=losses[:, inverse],
        lrs=rates[:, inverse],
        grad_norms=norms[:, inverse],
        diverged_at=diverged[inverse],
        steps_to_tol=arrived[inverse],
    )


def common_noise(std: float, seed: int, steps: int) -> np.ndarray | None:
    """One Gaussian sequence shared by every racer (common random numbers), or None if σ = 0."""
    if std == 0:
        return None
    return std * np.random.default_rng(seed).standard_normal((steps, 2))
