"""The engine behind the page: one validated race in, compact racers out, memoized per racer.

A racer's result depends only on the shared settings and its own configuration (the engine
guarantees it: a racer alone equals the same racer in a race), so each racer is cached under
a hash of exactly those. Changing one racer's rate recomputes that racer only.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask_caching import Cache

from callbacks.compact import compact_racer, surface_payload
from optimizers.config import RaceConfig
from optimizers.race import run_race
from surfaces import get_surface

CACHE_TIMEOUT = 24 * 3600


def _digest(kind: str, payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return f"race:{kind}:" + hashlib.sha256(text.encode()).hexdigest()


def racer_key(config: RaceConfig, index: int) -> str:
    """The cache key of racer ``index``: shared settings plus its own normalized config."""
    full = config.to_json()
    shared = {k: v for k, v in full.items() if k != "racers"}
    return _digest("racer", [shared, full["racers"][index]])


def surface_key(config: RaceConfig) -> str:
    return _digest("surface", config.surface.to_json())


class RaceService:
    """Runs races for the page through a flask-caching cache (memory, file or Redis)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def racer(self, config: RaceConfig, index: int) -> tuple[str, dict[str, Any]]:
        """(key, compact result) of one racer, from the cache when it has been run before."""
        key = racer_key(config, index)
        hit = self.cache.get(key)
        if hit is not None:
            return key, hit
        single = RaceConfig(
            surface=config.surface,
            start=config.start,
            steps=config.steps,
            tol=config.tol,
            noise=config.noise,
            racers=(config.racers[index],),
        )
        result = run_race(single)
        surface = get_surface(config.surface.name, **config.surface.params)
        compact = compact_racer(result.racers[0], surface.f_star)
        self.cache.set(key, compact, timeout=CACHE_TIMEOUT)
        return key, compact

    def surface(self, config: RaceConfig) -> tuple[str, dict[str, Any]]:
        key = surface_key(config)
        hit = self.cache.get(key)
        if hit is None:
            hit = surface_payload(get_surface(config.surface.name, **config.surface.params))
            self.cache.set(key, hit, timeout=CACHE_TIMEOUT)
        return key, hit
