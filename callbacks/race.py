"""The race callback's logic, free of Dash: page inputs in, store update and messages out.

Kept apart from the wiring so the integration tests can drive it with forged inputs directly
as well as through HTTP.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from callbacks.form import (
    current,
    grouped,
    racer_from_controls,
    sam_from_controls,
    surface_from_controls,
)
from common.errors import ConfigError
from common.params import typed
from layouts.controls import (
    MAX_PAGE_RACERS,
    OFF_WHEN_EMPTY,
    PAGE_STEPS,
    card_field,
    page_field,
)
from layouts.equation import update_rule
from optimizers import readiness
from optimizers.config import RaceConfig
from optimizers.validate import race_errors, validate_race
from service.budget import OverBudget
from service.compact import style
from service.races import RaceService
from service.share import encode_race

log = logging.getLogger(__name__)
RACER_FIELD = re.compile(r"^racers\[(\d+)\]\.?")
SERVER_FAULT = "Something went wrong on the server; the last race is kept."


@dataclass
class PageInputs:
    """Everything the page sends for one race, as raw (untrusted) values."""

    surface: Any
    surface_params: list[dict[str, Any]]
    steps: Any
    noise_std: Any
    noise_seed: Any
    start: Any
    optimizers: list[dict[str, Any]]
    lrs: list[dict[str, Any]]
    params: list[dict[str, Any]]
    schedules: list[dict[str, Any]]
    schedule_params: list[dict[str, Any]]
    clips: list[dict[str, Any]]
    labels: list[dict[str, Any]] = field(default_factory=list)
    sams: list[dict[str, Any]] = field(default_factory=list)
    sam_adaptives: list[dict[str, Any]] = field(default_factory=list)
    work_budget: Any = None
    # What changed: controls whose dependent controls are about to be regenerated are stale.
    stale_surface: bool = False
    stale_params: set[int] = field(default_factory=set)
    stale_schedule_params: set[int] = field(default_factory=set)


@dataclass
class RaceUpdate:
    """The callback's answer. ``store`` is None when nothing must change on the page."""

    order: list[int]
    store: dict[str, Any] | None = None
    full: bool = False
    keys: dict[str, str] | None = None
    surface: dict[str, Any] | None = None
    racer_errors: dict[int, str] = field(default_factory=dict)
    surface_error: str = ""
    settings_error: str = ""
    equations: dict[int, str] = field(default_factory=dict)
    # Words for the page while a background warm-up (make run) compiles a racer's loop: the
    # race is asked for again each second until it can run (callbacks/wiring.py).
    preparing: str = ""


def build_race(inputs: PageInputs) -> tuple[dict[str, Any], list[int]]:
    """The race JSON the controls describe, and the racer indices in page order."""
    optimizers = grouped(inputs.optimizers, "racers")
    order = list(optimizers)
    if len(order) > MAX_PAGE_RACERS:
        raise ConfigError("racers", f"the page races at most {MAX_PAGE_RACERS} racers")
    lrs = grouped(inputs.lrs, "racers")
    schedules = grouped(inputs.schedules, "racers")
    chosen = {i: optimizers[i].get("") for i in order}
    scheduled = {i: schedules.get(i, {}).get("", "constant") for i in order}
    # Controls left from a card's previous optimizer or schedule are stale: left out.
    params = grouped(current(inputs.params, chosen), "racers")
    schedule_params = grouped(current(inputs.schedule_params, scheduled), "racers")
    clips = grouped(inputs.clips, "racers")
    labels = grouped(inputs.labels, "racers")
    sams = grouped(inputs.sams, "racers")
    adaptives = grouped(inputs.sam_adaptives, "racers")
    racers = []
    for i in order:
        racer = racer_from_controls(
            optimizers[i].get(""),
            lrs.get(i, {}).get(""),
            {} if i in inputs.stale_params else params.get(i, {}),
            scheduled[i],
            {} if i in inputs.stale_schedule_params else schedule_params.get(i, {}),
            clips.get(i, {}).get(""),
            labels.get(i, {}).get(""),
        )
        racers.append({**racer, **sam_from_controls(sams.get(i, {}), adaptives.get(i, {}))})
    surface_params = {}
    if not inputs.stale_surface:
        for entry in inputs.surface_params:
            ident = entry.get("id") if isinstance(entry, dict) else None
            name = ident.get("name") if isinstance(ident, dict) else None
            if not isinstance(name, str):
                raise ConfigError("surface.params", "has a malformed control id")
            surface_params[name] = entry.get("value")
    race = {
        "surface": surface_from_controls(inputs.surface, surface_params),
        "steps": typed(inputs.steps),
        "noise": {"std": typed(inputs.noise_std), "seed": typed(inputs.noise_seed)},
        "racers": racers,
    }
    if inputs.work_budget not in (None, ""):  # an empty box: no budget
        race["work_budget"] = typed(inputs.work_budget)
    start = inputs.start
    if isinstance(start, dict):
        # A start belongs to the surface it was chosen on; after a surface change it lapses
        # (whatever order the browser's requests arrive in), so nothing needs resetting.
        if start.get("surface") == inputs.surface:
            if start.get("point") is not None:
                race["start"] = start.get("point")
    elif start is not None:
        race["start"] = start  # not the page's shape: the validator says what is wrong
    return race, order


def place_error(error: ConfigError, order: list[int], update: RaceUpdate) -> None:
    """Put a validation message beside the control it is about (the first one placed in a
    card, the surface or the settings stays).

    In a racer's card the field is named as its control is: ``momentum``, not
    ``racers[1].params.momentum``.
    """
    match = RACER_FIELD.match(error.field)
    if match and int(match.group(1)) < len(order):
        field = error.field[match.end() :]
        off = " (leave it empty for off)" if field in OFF_WHEN_EMPTY else ""
        message = f"{card_field(field)}: {error.message}{off}"
        update.racer_errors.setdefault(order[int(match.group(1))], message)
    elif error.field.startswith("surface"):
        update.surface_error = update.surface_error or f"{page_field(error.field)}: {error.message}"
    else:
        shown = f"{page_field(error.field)}: {error.message}"
        update.settings_error = update.settings_error or shown


def validate_page_race(race: dict[str, Any]) -> RaceConfig:
    """The validator, with the page's own floor of 10 steps (shorter races show nothing; the
    engine accepts 1)."""
    PAGE_STEPS.validate(race.get("steps"), "steps")
    return validate_race(race)


def refusals(race: dict[str, Any]) -> list[ConfigError]:
    """Every refused part of the page's race, for a message beside each (the first wins)."""
    found = []
    try:
        PAGE_STEPS.validate(race.get("steps"), "steps")
    except ConfigError as error:
        found.append(error)
    return found + race_errors(race)


def run_update(
    config: RaceConfig, order: list[int], known_keys: Any, service: RaceService
) -> RaceUpdate:
    """Run what changed since ``known_keys`` and say how the page's stores must change."""
    update = RaceUpdate(order=order)
    previous = known_keys if isinstance(known_keys, dict) else {}
    surface_key, surface = service.surface(config)
    keys = {"surface": surface_key}
    racers: dict[str, Any] = {}
    for index, (key, compact) in zip(order, service.racers(config), strict=True):
        keys[str(index)] = key
        racers[str(index)] = compact | style(index)
    update.full = previous.get("surface") != surface_key or not previous
    if surface_key != previous.get("surface"):
        update.surface = surface
    if keys == previous:
        return update
    # Each changed racer's update rule is typeset again in the browser; unchanged ones stay.
    noisy = config.noise.std > 0
    for index, racer in zip(order, config.racers, strict=True):
        if update.full or previous.get(str(index)) != keys[str(index)]:
            update.equations[index] = update_rule(racer.to_json(), noisy)
    update.keys = keys
    update.store = {
        "steps": config.steps,
        "start": list(config.start),
        "f_star": surface["f_star"],
        "order": [str(i) for i in order],
        "share": encode_race(config),
        "racers": racers,
    }
    # Only racers whose key changed travel (the wiring turns this into a dash.Patch).
    if not update.full:
        update.store["changed"] = [k for k in racers if previous.get(k) != keys[k]]
    return update


def opening_update(
    race: dict[str, Any], service: RaceService, slots: list[int] | None = None
) -> RaceUpdate:
    """The stores of the page as it opens: the first race arrives with the layout. ``slots``
    are the racers' card indices (a link's, so each keeps its colour); by default 0, 1, …"""
    order = list(range(len(race["racers"]))) if slots is None else list(slots)
    return run_update(validate_race(race), order, {}, service)


def preparing_words(titles: list[str]) -> str:
    """ "Preparing L-BFGS for its first race …": what the page says while loops compile."""
    names = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    whose = "its" if len(titles) == 1 else "their"
    loops = "loop" if len(titles) == 1 else "loops"
    return (
        f"Preparing {names} for {whose} first race: compiling {whose} {loops}, once per "
        "install. The race starts as soon as it is ready."
    )


def race_update(inputs: PageInputs, known_keys: Any, service: RaceService) -> RaceUpdate:
    """Validate the page's inputs, then run what changed; errors become messages."""
    order: list[int] = []
    try:
        race, order = build_race(inputs)
        try:
            config = validate_page_race(race)
        except ConfigError as first:
            # Every refused value gets its message, not only the first the validator met.
            update = RaceUpdate(order=order)
            for error in (first, *refusals(race)):
                place_error(error, order, update)
            return update
        waiting = [racer.optimizer for racer in config.racers]
        titles = readiness.preparing(waiting)
        if titles:
            readiness.want(waiting)
            return RaceUpdate(order=order, preparing=preparing_words(titles))
        return run_update(config, order, known_keys, service)
    except ConfigError as error:
        update = RaceUpdate(order=order)
        place_error(error, order, update)
        return update
    except OverBudget:
        raise  # the client's work budget is spent: 429 with Retry-After (web/hardening.py)
    except Exception:
        log.exception("race update failed")
        return RaceUpdate(order=order, settings_error=SERVER_FAULT)
