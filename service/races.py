"""The engine behind the page and the API: validated races in, results out, memoized per racer.

A racer's result depends only on the shared settings and its own configuration (the engine
guarantees it: a racer alone equals the same racer in a race), so each racer is cached under
a hash of exactly those. Changing one racer's rate recomputes that racer only, and every
worker and host that shares the cache (Redis) shares the results.

The cache is an accelerator, never a dependency: if it fails (Redis gone or hung), results are
computed without it, the outage is logged once, the cache is skipped for a while (a circuit
breaker, so a hung Redis is waited on once per cooldown, not on every call) and caching resumes
when it answers again.

Whatever is not cached is charged to the requesting client's work budget before it runs
(service/budget.py), in the validator's measure of work. Big batches run in chunks of at most
CHUNK_RUN_STEPS run-steps (a chunk is whole racers, at least one), except sweeps, which keep
no paths: a chunk's runs hold their whole paths while they run (fans then keep only what is
served, optimizers/fan.py), so the chunk bounds a request's peak memory (bench/stack.py and
bench/engine.py measure each). Results do not change: a racer alone equals the same racer in
a race.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from flask_caching import Cache

from optimizers.config import FanRequest, RaceConfig, StartsRequest, SweepRequest
from optimizers.fan import noisy_fans
from optimizers.race import result_json, run_race
from optimizers.starts import many_starts
from optimizers.sweep import SweepResult, sweep
from optimizers.trace import trace_racer
from optimizers.validate import (
    FAN_RUNS,
    Factors,
    fan_work,
    race_work,
    run_steps,
    starts_work,
    sweep_work,
)
from service.breaker import CircuitBreaker
from service.budget import WorkBudget
from service.compact import compact_fan, compact_racer, compact_starts, surface_payload
from service.curvature import curvature
from service.store import failure_kind
from surfaces import get_surface

CACHE_TIMEOUT = 24 * 3600
# One racer of a maximum sweep (49 rates × 5,000 steps) or fan (64 runs × 5,000 steps) fits.
CHUNK_RUN_STEPS = 320_000
HEALTH_KEY = "health"  # read by /healthz: a miss is an answer too
log = logging.getLogger(__name__)


def _digest(kind: str, payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    # v3: results carry where an optimizer's own rule stopped it (v2 added the work clock).
    return f"race:v3:{kind}:" + hashlib.sha256(text.encode()).hexdigest()


def racer_keys(config: RaceConfig, kind: str) -> list[str]:
    """Each racer's cache key: the shared settings plus its own normalized config."""
    full = config.to_json()
    shared = {k: v for k, v in full.items() if k != "racers"}
    return [_digest(kind, [shared, racer]) for racer in full["racers"]]


def surface_key(config: RaceConfig) -> str:
    return _digest("surface", config.surface.to_json())


class RaceService:
    """Runs races through a flask-caching cache (memory in the process, or Redis)."""

    def __init__(
        self,
        cache: Cache,
        breaker: CircuitBreaker | None = None,
        budget: WorkBudget | None = None,
    ) -> None:
        self.cache = cache
        self.breaker = breaker or CircuitBreaker(cooldown=5.0)
        self.budget = budget  # None: nothing is charged (scripts, the benches' engine runs)
        self.engine_runs = 0  # per process; the scale-out test reads it through /healthz

    @property
    def cache_down(self) -> bool:
        """Whether the cache is being skipped (its breaker is open)."""
        return self.breaker.open

    def _get(self, key: str) -> Any:
        """The cached value, or None when absent, when the cache does not answer, or while
        its breaker is open."""
        if not self.breaker.allow():
            return None
        try:
            hit = self.cache.get(key)
        except Exception as exc:
            self._cache_failed(exc)
            return None
        self._cache_answered()
        return hit

    def _set(self, key: str, value: Any) -> None:
        if not self.breaker.allow():
            return
        try:
            self.cache.set(key, value, timeout=CACHE_TIMEOUT)
        except Exception as exc:
            self._cache_failed(exc)

    def cache_health(self) -> str:
        """ "ok", or why the cache is skipped: "down" (refused, failing) or "stalled" (timed
        out). Asks the cache itself unless its breaker is open, so a hung cache is reported
        as soon as a probe sees it, and a probe costs at most one timeout per cooldown."""
        if not self.breaker.allow():
            return self.breaker.failure
        try:
            self.cache.get(HEALTH_KEY)
        except Exception as exc:
            self._cache_failed(exc)
            return self.breaker.failure
        self._cache_answered()
        return "ok"

    def _spend(self, factors: Factors, steps: int) -> contextlib.AbstractContextManager[None]:
        """Around work about to run: charged to the client, who may run only so much at once
        (raises OverBudget: nothing runs)."""
        if self.budget is None:
            return contextlib.nullcontext()
        return self.budget.spend(run_steps(factors, steps))

    def _cached(self, key: str, compute: Callable[[], Any], work: Factors, steps: int) -> Any:
        hit = self._get(key)
        if hit is not None:
            return hit
        with self._spend(work, steps):
            value = compute()
        self._set(key, value)
        return value

    def _cache_failed(self, exc: Exception) -> None:
        kind = failure_kind(exc)
        if self.breaker.failed(kind):
            log.warning(
                "cache unavailable (%s, %s): computing without it, trying again every %g s",
                kind,
                type(exc).__name__,
                self.breaker.cooldown,
            )

    def _cache_answered(self) -> None:
        if self.breaker.succeeded():
            log.warning("cache available again")

    def _per_racer(
        self,
        config: RaceConfig,
        kind: str,
        compute: Callable[[RaceConfig], list[Any]],
        work: Callable[[RaceConfig], Factors],
        chunked: bool = True,
    ) -> list[tuple[str, Any]]:
        """(key, value) of every racer, each cached under its own key. The racers not in the
        cache are charged for (``work`` of the race of just those racers) and computed in
        chunks (``compute`` getting a race of some of them), so a rate change recomputes
        that racer only."""
        keys = racer_keys(config, kind)
        found = {i: hit for i, key in enumerate(keys) if (hit := self._get(key)) is not None}
        missing = [i for i in range(len(keys)) if i not in found]
        if missing:
            with self._spend(work(self._subset(config, missing)), config.steps):
                self.engine_runs += 1
                cut = chunks(missing, lambda some: self._work(config, some, work))
                for chunk in cut if chunked else [missing]:
                    subset = self._subset(config, chunk)
                    for i, value in zip(chunk, compute(subset), strict=True):
                        found[i] = value
                        self._set(keys[i], value)
        return [(key, found[i]) for i, key in enumerate(keys)]

    @staticmethod
    def _subset(config: RaceConfig, indices: list[int]) -> RaceConfig:
        return dataclasses.replace(config, racers=tuple(config.racers[i] for i in indices))

    def _work(
        self, config: RaceConfig, indices: list[int], work: Callable[[RaceConfig], Factors]
    ) -> int:
        return run_steps(work(self._subset(config, indices)), config.steps)

    def racers(self, config: RaceConfig) -> list[tuple[str, dict[str, Any]]]:
        """(key, compact result for the page) of every racer, in order."""
        f_star = get_surface(config.surface.name, **config.surface.params).f_star

        def compute(subset: RaceConfig) -> list[dict[str, Any]]:
            out = [compact_racer(r, f_star) for r in run_race(subset).racers]
            if config.noise.std > 0:
                # With noise the page shows each racer's spread over FAN_RUNS seeds.
                for entry, fan in zip(out, noisy_fans(subset, FAN_RUNS.default), strict=True):
                    entry["fan"] = compact_fan(fan, f_star)
            return out

        fans = FAN_RUNS.default if config.noise.std > 0 else 0
        return self._per_racer(config, "racer", compute, lambda subset: race_work(subset, fans))

    def race_json(self, config: RaceConfig) -> dict[str, Any]:
        """A whole race's result JSON (race-config.md), each racer through the cache."""

        def compute(subset: RaceConfig) -> list[dict[str, Any]]:
            return [r.to_json() for r in run_race(subset).racers]

        racers = [value for _, value in self._per_racer(config, "result", compute, race_work)]
        return result_json(config, racers)  # the one definition of the result's shape

    def racer_json(self, config: RaceConfig, index: int) -> dict[str, Any]:
        """Racer ``index``'s result JSON: the race of that racer alone (same cache entry)."""
        alone = dataclasses.replace(config, racers=(config.racers[index],))
        return self.race_json(alone)["racers"][0]

    def sweep(self, request: SweepRequest) -> SweepResult:
        """Each racer's sweep, cached whatever the criterion (it only picks the winner)."""
        config, grid = request.race, request.grid
        kind = f"sweep:{grid.low!r}:{grid.high!r}:{grid.count}"
        racers = self._per_racer(
            config,
            kind,
            lambda subset: list(sweep(subset, grid).racers),
            lambda subset: sweep_work(subset, grid),
            # The compiled engine keeps no sweep paths (a maximum sweep peaks at ~2 MB in one
            # batch) and runs one batch faster than chunks.
            chunked=False,
        )
        return SweepResult(grid, request.criterion, config.steps, tuple(r for _, r in racers))

    def fan(self, request: FanRequest) -> dict[str, Any]:
        """Every racer's noisy runs summarised (the API's form)."""
        config = request.race

        def compute(subset: RaceConfig) -> list[dict[str, Any]]:
            return [fan.to_json() for fan in noisy_fans(subset, request.runs)]

        racers = self._per_racer(
            config, f"fan:{request.runs}", compute, lambda subset: fan_work(subset, request.runs)
        )
        return {
            "steps": config.steps,
            "noise": {"std": config.noise.std, "seed": config.noise.seed},
            "racers": [value for _, value in racers],
        }

    def starts(self, request: StartsRequest) -> dict[str, Any]:
        """One racer from many starts, grouped by basin, with the thinned paths the page
        draws (the API leaves them out): one computation and one cache entry for both."""
        config = request.race
        # "starts2": basins only where runs settled (an entry cached before holds the old
        # grouping, which a shared cache would otherwise serve for a day).
        kind = f"starts2:{request.layout}:{request.count}:{request.seed}"
        key = racer_keys(config, kind)[request.racer]

        def compute() -> dict[str, Any]:
            self.engine_runs += 1
            return compact_starts(
                many_starts(config, request.racer, request.layout, request.count, request.seed)
            )

        work = starts_work(request.count, config.racers[request.racer])
        return self._cached(key, compute, work, config.steps)

    def trace(self, config: RaceConfig, index: int) -> dict[str, Any]:
        """Racer ``index``'s state after every step, for the step inspector."""
        # "trace3": with the curvature view and SAM's probes (an entry cached before lacks
        # them).
        key = racer_keys(config, "trace3")[index]

        def compute() -> dict[str, Any]:
            self.engine_runs += 1
            trace = trace_racer(config, index)
            return {**trace.to_json(), "curvature": curvature(config, index, trace)}

        alone = self._subset(config, [index])
        return self._cached(key, compute, race_work(alone), config.steps)

    def surface(self, config: RaceConfig) -> tuple[str, dict[str, Any]]:
        def compute() -> dict[str, Any]:
            return surface_payload(get_surface(config.surface.name, **config.surface.params))

        key = surface_key(config)
        return key, self._cached(key, compute, [], 0)  # a grid of the surface, not a run


def chunks(indices: list[int], work: Callable[[list[int]], int]) -> list[list[int]]:
    """``indices`` in order, cut into runs whose ``work`` is at most CHUNK_RUN_STEPS (a racer
    whose work alone is more makes a chunk of its own)."""
    out: list[list[int]] = []
    for i in indices:
        if out and work([*out[-1], i]) <= CHUNK_RUN_STEPS:
            out[-1].append(i)
        else:
            out.append([i])
    return out
