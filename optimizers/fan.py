"""Noisy-gradient fans: one racer run under many noise seeds, summarised robustly.

With noise, one run is one draw; what a racer does is a distribution. Run ``k`` uses seed
``seed + k`` (mod 2³²), so run 0 is exactly the race's own run and any run can be replayed as
a race with its seed. A diverged run counts as an infinite loss, so the median says
"diverged" only once most runs have.

A fan keeps what is served, not every run's path: as each batch of racers ends, its runs are
reduced to the median path, the loss quartiles per step, each run's outcome and its point at
``sampled_steps`` (the page's faint copies). Batches hold at most ``BATCH_RUN_STEPS`` run-steps
of paths, so a maximum-budget fan never holds all of its runs' paths at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizers.batch import run_batch
from optimizers.config import RaceConfig
from optimizers.engine import Record, Trajectories
from optimizers.validate import NOISE_SEED

SEED_SPACE = NOISE_SEED.high + 1  # seeds wrap within the race's own seed range
QUARTILES = (0.25, 0.5, 0.75)
# A fan keeps each run's point at most this many steps (the page's faint copies).
COPY_POINTS = 64
# The paths one batch of a fan holds while it runs (one racer of a maximum fan fits).
BATCH_RUN_STEPS = 320_000


def fan_seeds(seed: int, runs: int) -> list[int]:
    return [(seed + k) % SEED_SPACE for k in range(runs)]


def sampled_steps(steps: int, most: int = COPY_POINTS) -> np.ndarray:
    """At most ``most`` step numbers from 0 to ``steps``, both ends included."""
    return np.unique(np.round(np.linspace(0, steps, min(steps + 1, most))).astype(int))


@dataclass(frozen=True)
class NoisyFan:
    """A racer's runs, summarised. ``median`` (k, 2) is the coordinate-wise median of the runs
    still going, while most of them are; ``quartiles`` (3, n) the loss quartiles per step, a
    diverged run counting as +inf, cut at the first step where one is no longer finite;
    ``copies`` (len(copy_steps), runs, 2) each run's point at ``copy_steps`` (NaN after its
    end). ``points`` (steps+1, runs, 2) and ``losses`` (steps+1, runs), NaN after each run's
    end, only when asked for (``noisy_fan(..., paths=True)``)."""

    seeds: tuple[int, ...]
    lengths: np.ndarray
    diverged_at: np.ndarray
    last_loss: np.ndarray
    median: np.ndarray
    quartiles: np.ndarray
    copy_steps: np.ndarray
    copies: np.ndarray
    points: np.ndarray | None = None
    losses: np.ndarray | None = None

    @property
    def runs(self) -> int:
        return len(self.seeds)

    def alive(self) -> np.ndarray:
        """(steps+1, runs): whether each run still holds a valid point at each step."""
        return np.arange(self.copy_steps[-1] + 1)[:, None] < self.lengths[None, :]

    def median_path(self) -> np.ndarray:
        """The coordinate-wise median of the runs still going, while most of them are."""
        return self.median

    def loss_quantiles(self, qs: tuple[float, ...] = QUARTILES) -> np.ndarray:
        """(3, n) quartiles of the loss per step (the only quantiles a fan keeps)."""
        if tuple(qs) != QUARTILES:
            raise ValueError(f"a fan keeps the loss quantiles {QUARTILES} only")
        return self.quartiles

    def final_losses(self) -> np.ndarray:
        """Each run's final loss; inf for a run that diverged."""
        return np.where(self.diverged_at > 0, np.inf, self.last_loss)

    def summary(self) -> dict[str, Any]:
        """Median and spread (quartiles) of the final loss, and how many runs diverged."""
        final = self.final_losses()
        with np.errstate(all="ignore"):
            q25, median, q75 = np.quantile(final, QUARTILES)

        def shown(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "runs": self.runs,
            "median": shown(median),
            "q25": shown(q25),
            "q75": shown(q75),
            "diverged": int((self.diverged_at > 0).sum()),
        }

    def to_json(self) -> dict[str, Any]:
        """The API's form: the summary, every run's seed and outcome, and per step the median
        path and the loss quartiles (full floats; no run's whole path)."""
        final = self.final_losses()
        q25, q50, q75 = self.quartiles
        return {
            **self.summary(),
            "seeds": list(self.seeds),
            "final_loss": [float(v) if np.isfinite(v) else None for v in final],
            "diverged_at": [int(k) or None for k in self.diverged_at],
            "median_path": self.median.tolist(),
            "loss_quartiles": [q25.tolist(), q50.tolist(), q75.tolist()],
        }


def sorted_quantiles(values: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """``np.quantile(values, qs, axis=-1)`` (its default, linear method) for ``values`` sorted
    along their last axis and holding no NaN, in NumPy's arithmetic: the virtual index
    (n − 1)·q, its neighbours (both the last value from n − 1 on, where the weight is then
    measured from index −1, as NumPy does) and NumPy's two-sided interpolation."""
    n = values.shape[-1]
    out = np.empty((len(qs), *values.shape[:-1]))
    with np.errstate(all="ignore"):
        for i, q in enumerate(qs):
            virtual = (n - 1) * np.float64(q)
            below = np.floor(virtual)
            if virtual >= n - 1:
                low = high = n - 1
                below = np.float64(-1.0)
            else:
                low, high = int(below), int(below) + 1
            t = virtual - below
            a, b = values[..., low], values[..., high]
            diff = b - a
            out[i] = b - diff * (1 - t) if t >= 0.5 else a + diff * t
    return out


def _summaries(traj: Trajectories, seeds: list[int], paths: bool) -> list[NoisyFan]:
    """The fans of a batch's racers (runs racer × seed, racer-major), all racers at once.

    The statistics are NumPy's, bit for bit, computed over the runs sorted per step (a
    contiguous sort of a few dozen values; ``np.nanmedian`` and ``np.quantile`` along an
    axis cost ten times the engine's runs): the median of the alive runs as ``np.nanmedian``
    takes it (the two middle values summed and halved, the middle one twice when their
    count is odd) and the quartiles as ``sorted_quantiles``."""
    runs = len(seeds)
    racers = len(traj.ends) // runs
    rows = traj.points.shape[0]
    lengths = traj.ends.reshape(racers, runs)
    alive = np.arange(rows)[None, :, None] < lengths[:, None, :]  # (racers, rows, runs)
    count = alive.sum(axis=2)
    majority = count * 2 > runs
    cut = np.where(majority.all(axis=1), rows, np.argmin(majority, axis=1))
    # (racers, rows, 2, runs): each step's points sorted over the runs, NaN (ended) last.
    # The engine's arrays are run-major underneath (``points`` is a transposed view).
    by_step = np.ascontiguousarray(
        traj.points.transpose(1, 0, 2).reshape(racers, runs, rows, 2).transpose(0, 2, 3, 1)
    )
    by_step.sort(axis=3)
    high = np.minimum(count // 2, runs - 1)[:, :, None, None]
    low = np.maximum(np.where(count % 2 == 1, count // 2, count // 2 - 1), 0)[:, :, None, None]
    with np.errstate(all="ignore"):
        median = (
            np.take_along_axis(by_step, low, axis=3) + np.take_along_axis(by_step, high, axis=3)
        )[..., 0] / 2.0
    del by_step
    ordered = traj.losses.T.reshape(racers, runs, rows).transpose(0, 2, 1)
    losses = np.where(alive, ordered, np.inf)
    losses.sort(axis=2)
    quartiles = sorted_quantiles(losses, QUARTILES)  # (3, racers, rows)
    del losses
    finite = np.isfinite(quartiles).all(axis=0)
    band = np.where(finite.all(axis=1), rows, np.argmin(finite, axis=1))
    steps = sampled_steps(rows - 1)
    copies = traj.points[steps].reshape(len(steps), racers, runs, 2)
    last = traj.final_loss.reshape(racers, runs)
    diverged = traj.diverged_at.reshape(racers, runs)
    fans = []
    for r in range(racers):
        mine = slice(r * runs, (r + 1) * runs)
        fans.append(
            NoisyFan(
                seeds=tuple(seeds),
                lengths=lengths[r].copy(),
                diverged_at=diverged[r].copy(),
                last_loss=last[r].copy(),
                median=median[r, : cut[r]].copy(),
                quartiles=quartiles[:, r, : band[r]].copy(),
                copy_steps=steps,
                copies=copies[:, r].copy(),
                points=traj.points[:, mine] if paths else None,
                losses=traj.losses[:, mine] if paths else None,
            )
        )
    return fans


def noisy_fans(config: RaceConfig, runs: int, *, paths: bool = False) -> list[NoisyFan]:
    """Every racer of ``config`` once per seed ``seed``, ``seed+1``, …, in batches of whole
    racers of at most ``BATCH_RUN_STEPS`` run-steps (one batch, unless the fan is big);
    ``paths`` keeps every run's whole path too."""
    seeds = fan_seeds(config.noise.seed, runs)
    size = max(1, BATCH_RUN_STEPS // (runs * (config.steps + 1)))
    fans = []
    for first in range(0, len(config.racers), size):
        some = dataclasses.replace(config, racers=config.racers[first : first + size])
        batch = run_batch(some, seeds=seeds, record=Record.POINTS)
        fans += _summaries(batch.trajectories, seeds, paths)
    return fans


def noisy_fan(config: RaceConfig, index: int, runs: int, *, paths: bool = True) -> NoisyFan:
    """Racer ``index`` of ``config`` under ``runs`` seeds (the racer alone, one batch), with
    every run's path unless ``paths`` is False."""
    alone = dataclasses.replace(config, racers=(config.racers[index],))
    return noisy_fans(alone, runs, paths=paths)[0]
