"""The engine behind the page and the API: validated races in, results out, memoized per racer.

A racer's result depends only on the shared settings and its own configuration (the engine
guarantees it: a racer alone equals the same racer in a race), so each racer is cached under
a hash of exactly those. Changing one racer's rate recomputes that racer only, and every
worker and host that shares the cache (Redis) shares the results.

The cache is an accelerator, never a dependency: if it fails (Redis gone), results are
computed without it, the outage is logged once, and caching resumes when it answers again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from flask_caching import Cache

from callbacks.compact import compact_racer, surface_payload
from optimizers.config import RaceConfig
from optimizers.race import RacerResult, run_race
from optimizers.trace import trace_racer
from surfaces import get_surface

CACHE_TIMEOUT = 24 * 3600
log = logging.getLogger(__name__)


def _digest(kind: str, payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return f"race:{kind}:" + hashlib.sha256(text.encode()).hexdigest()


def racer_keys(config: RaceConfig, kind: str) -> list[str]:
    """Each racer's cache key: the shared settings plus its own normalized config."""
    full = config.to_json()
    shared = {k: v for k, v in full.items() if k != "racers"}
    return [_digest(kind, [shared, racer]) for racer in full["racers"]]


def surface_key(config: RaceConfig) -> str:
    return _digest("surface", config.surface.to_json())


class RaceService:
    """Runs races through a flask-caching cache (memory in the process, or Redis)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.engine_runs = 0  # per process; the scale-out test reads it through /healthz
        self.cache_down = False

    def _cached(self, key: str, compute: Callable[[], Any]) -> Any:
        try:
            hit = self.cache.get(key)
            self._cache_answered()
        except Exception:
            self._cache_failed()
            return compute()
        if hit is not None:
            return hit
        value = compute()
        try:
            self.cache.set(key, value, timeout=CACHE_TIMEOUT)
        except Exception:
            self._cache_failed()
        return value

    def _cache_failed(self) -> None:
        if not self.cache_down:
            log.warning("cache unavailable: computing without it until it answers again")
        self.cache_down = True

    def _cache_answered(self) -> None:
        if self.cache_down:
            log.warning("cache available again")
        self.cache_down = False

    def _run_one(self, config: RaceConfig, index: int) -> RacerResult:
        self.engine_runs += 1
        single = dataclasses.replace(config, racers=(config.racers[index],))
        return run_race(single).racers[0]

    def racers(self, config: RaceConfig) -> list[tuple[str, dict[str, Any]]]:
        """(key, compact result for the page) of every racer, in order."""
        f_star = get_surface(config.surface.name, **config.surface.params).f_star

        def compact(index: int) -> dict[str, Any]:
            return compact_racer(self._run_one(config, index), f_star)

        keys = racer_keys(config, "racer")
        return [(key, self._cached(key, lambda i=i: compact(i))) for i, key in enumerate(keys)]

    def racer_json(self, config: RaceConfig, index: int, key: str | None = None) -> dict:
        """Racer ``index``'s result JSON (one racer of race-config.md's result), cached."""
        key = key or racer_keys(config, "result")[index]
        return self._cached(key, lambda: self._run_one(config, index).to_json())

    def race_json(self, config: RaceConfig) -> dict[str, Any]:
        """A whole race's result JSON (race-config.md), racer by racer through the cache."""
        keys = racer_keys(config, "result")
        return {
            "surface": config.surface.to_json(),
            "start": list(config.start),
            "steps": config.steps,
            "racers": [self.racer_json(config, i, key) for i, key in enumerate(keys)],
        }

    def trace(self, config: RaceConfig, index: int) -> dict[str, Any]:
        """Racer ``index``'s state after every step, for the step inspector."""
        key = racer_keys(config, "trace")[index]

        def compute() -> dict[str, Any]:
            self.engine_runs += 1
            return trace_racer(config, index).to_json()

        return self._cached(key, compute)

    def surface(self, config: RaceConfig) -> tuple[str, dict[str, Any]]:
        key = surface_key(config)
        build = get_surface(config.surface.name, **config.surface.params)
        return key, self._cached(key, lambda: surface_payload(build))
