"""A race in a URL: share links that restore a page exactly.

The link carries the race as compact JSON (defaults left out, floats as ``repr`` so every
value round-trips bit for bit) in URL-safe base64, one query parameter ``race``. The page's
other state (playback step, zoom, view, inspected racer, presentation mode, hidden control
groups) is the browser's and travels as plain parameters beside it (assets/playback.js).

A link is untrusted input: it is size-checked, decoded, checked for text that has no UTF-8
form (``check_text``) and then handed to the one validator.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from common.errors import ConfigError
from optimizers.config import NamedParams, RaceConfig
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import TOL, parse_json, validate_race
from surfaces import SURFACES

# Proxies and servers refuse very long request lines (gunicorn: 8190 bytes, as configured);
# eight racers with every setting changed stay well below this.
MAX_SHARE_CHARS = 6000
BROKEN = "a lone surrogate, \\ud800-\\udfff"  # what a refusal calls the character
# A code point of UTF-16's surrogate range left alone: JSON can spell one ("\\ud800") and
# Python's parser keeps it (a valid pair becomes one character), but no UTF-8 holds it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(data: Any) -> None:
    """ConfigError naming the first string of parsed JSON ``data`` (a value, or a key: its
    object is named) that holds a lone surrogate. Such text cannot be encoded: a race holding
    it could be validated but never written back as a link, nor the page or response that
    shows it sent, so it is refused where the input is read, like any invalid value. The walk
    is a loop, not recursion: JSON the parser accepts may be nested deeper than the stack."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                raise ConfigError(path, f"holds a broken character ({BROKEN})")
        elif isinstance(value, dict):
            for key in value:
                if LONE_SURROGATE.search(key):
                    raise ConfigError(path, f"has a key with a broken character ({BROKEN})")
            items = [(f"{path}.{key}" if path else key, item) for key, item in value.items()]
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{path}[{i}]", item) for i, item in enumerate(value)]))


def _changed(params: dict[str, Any], spec: Any) -> dict[str, Any]:
    """The values that differ from the registry's defaults (``spec.params``), in JSON form."""
    defaults = NamedParams("", {p.name: p.default for p in spec.params}).to_json()["params"]
    plain = NamedParams("", params).to_json()["params"]
    return {k: v for k, v in plain.items() if defaults.get(k) != v}


def _named(named: NamedParams, registry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": named.name}
    params = _changed(named.params, registry[named.name])
    if params:
        out["params"] = params
    return out


def compact_race(config: RaceConfig) -> dict[str, Any]:
    """The race JSON with every default left out: what a link must say, and no more."""
    race: dict[str, Any] = {
        "surface": _named(config.surface, SURFACES),
        "start": list(config.start),
        "steps": config.steps,
    }
    if config.tol != TOL.default:
        race["tol"] = config.tol
    if config.noise.std:
        race["noise"] = {"std": config.noise.std, "seed": config.noise.seed}
    if config.work_budget is not None:
        race["work_budget"] = config.work_budget
    racers = []
    for racer in config.racers:
        entry: dict[str, Any] = {"optimizer": racer.optimizer, "lr": racer.lr}
        params = _changed(racer.params, OPTIMIZERS[racer.optimizer])
        if params:
            entry["params"] = params
        if racer.schedule.name != "constant":
            entry["schedule"] = _named(racer.schedule, SCHEDULES)
        if racer.clip_norm is not None:
            entry["clip_norm"] = racer.clip_norm
        if racer.label:
            entry["label"] = racer.label
        if racer.sam_rho is not None:
            entry["sam_rho"] = racer.sam_rho
            if racer.sam_adaptive:
                entry["sam_adaptive"] = True
        racers.append(entry)
    race["racers"] = racers
    return race


def encode_race(config: RaceConfig) -> str:
    """The ``race`` query value for a validated race (URL-safe base64, no padding)."""
    text = json.dumps(compact_race(config), separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_race(value: Any) -> RaceConfig:
    """A ``race`` query value back to a validated race, or ConfigError naming the field."""
    if not isinstance(value, str) or not value:
        raise ConfigError("race", "must be a non-empty link value")
    if len(value) > MAX_SHARE_CHARS:
        raise ConfigError("race", f"is {len(value)} characters; a link holds {MAX_SHARE_CHARS}")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ConfigError("race", "is not a valid link value") from None
    try:
        data = parse_json(raw)
    except ConfigError as error:
        raise ConfigError("race", error.message) from None
    try:
        check_text(data)
    except ConfigError as error:
        raise ConfigError(error.field or "race", error.message) from None
    return validate_race(data)
