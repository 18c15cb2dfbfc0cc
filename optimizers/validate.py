"""The one door for untrusted input: JSON in, a typed RaceConfig or a ConfigError out.

Every callback and API route goes through ``validate_race`` (or ``parse_race`` for raw request
bodies). It never evaluates anything, never recurses into values it does not expect, and
checks sizes before it walks a list, so hostile input costs little.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from typing import Any

from common.errors import ConfigError
from common.params import Param, as_float, as_text, type_name, validate_params
from optimizers.base import LR
from optimizers.config import (
    CRITERIA,
    DEFAULT_CRITERION,
    FanRequest,
    NamedParams,
    NoiseConfig,
    RaceConfig,
    RacerConfig,
    RateGrid,
    StartsRequest,
    SweepRequest,
)
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES, get_surface
from surfaces.compiled import sum_of_squares

MAX_RACERS = 12
MAX_STEPS = 5000
MAX_BODY_BYTES = 64 * 1024
MAX_LABEL = 60

STEPS = Param("steps", 300, kind="int", low=1, high=MAX_STEPS, help="optimizer steps per racer")
TOL = Param("tol", 1e-6, low=0.0, high=1e6, help="a racer has arrived once f − f* ≤ tol")
NOISE_STD = Param(
    "std", 0.0, low=0.0, high=1000.0, help="σ of Gaussian noise added to each gradient coordinate"
)
NOISE_SEED = Param("seed", 0, kind="int", low=0, high=2**32 - 1, help="seed shared by every racer")
CLIP = Param(
    "clip_norm",
    None,
    low=0.0,
    high=1e6,
    low_open=True,
    nullable=True,
    help="clip the gradient to this L2 norm",
)
# Sharpness-aware steps (SAM, Foret et al. 2021; ASAM, Kwon et al. 2021), a racer-level
# option like clipping. Bounds: ρ is a distance in the surface's own units (the surfaces span
# a few units; ASAM's ρ multiplies |θ|, so it reads as a fraction of the distance from the
# origin).
SAM_RHO = Param(
    "sam_rho",
    None,
    low=0.0,
    high=10.0,
    low_open=True,
    nullable=True,
    help="sharpness-aware steps (SAM): the optimizer steps with the gradient taken at θ + e, "
    "e = ρ·g/(‖g‖ + 1e-12) (with sam_adaptive: ASAM's e = ρ·θ²⊙g/(‖|θ|⊙g‖ + 1e-12)). Two "
    "gradients a step on the work clock; both see the step's one noise sample (one "
    "mini-batch); clipping applies to the gradient at θ + e, the one the optimizer steps "
    "with; the loss chart's gradient norm and the inspector show the gradient at θ. Only "
    "for optimizers that take one gradient a step; null: off",
)
SAM_ADAPTIVE = Param(
    "sam_adaptive",
    False,
    kind="bool",
    help="ASAM: scale the perturbation by |θ| per coordinate (scale-invariant sharpness); "
    "ignored, and dropped, while sam_rho is null",
)

WORK_BUDGET = Param(
    "work_budget",
    None,
    low=0.0,
    high=1e7,
    low_open=True,
    nullable=True,
    help="stop each racer once its work (gradient evaluations; a function value costs 0.5, a "
    "Hessian 2) reaches this; null: steps alone bound the race",
)

RACE_KEYS = ("surface", "start", "steps", "tol", "noise", "racers", "work_budget")
RACER_KEYS = (
    "optimizer",
    "lr",
    "params",
    "schedule",
    "clip_norm",
    "label",
    "sam_rho",
    "sam_adaptive",
)


def _object(value: Any, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(field, f"must be an object, got {type_name(value)}")
    for key in value:
        if key not in allowed:
            shown = key if isinstance(key, str) and len(key) <= 40 else "(long key)"
            where = f"{field}.{shown}" if field else shown
            raise ConfigError(where, f"is not a known key (known: {', '.join(allowed)})")
    return value


def _registered(value: Any, field: str, registry: dict[str, Any], what: str) -> str:
    name = as_text(value, field, limit=40) if isinstance(value, str) else None
    if name is None:
        raise ConfigError(field, f"must be the name of {what}, got {type_name(value)}")
    if name not in registry:
        raise ConfigError(field, f"unknown {what} '{name}' (known: {', '.join(registry)})")
    return name


def _named(value: Any, field: str, registry: dict[str, Any], what: str) -> NamedParams:
    obj = _object(value, field, ("name", "params"))
    if "name" not in obj:
        raise ConfigError(f"{field}.name", "is required")
    name = _registered(obj["name"], f"{field}.name", registry, what)
    spec = registry[name]
    params = validate_params(spec.params, obj.get("params"), f"{field}.params", f"{what} '{name}'")
    if spec.check is not None:
        spec.check(params, f"{field}.params")
    return NamedParams(name, params)


def _point(value: Any, field: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(field, f"must be a list [x, y] of two numbers, got {type_name(value)}")
    return as_float(value[0], f"{field}[0]"), as_float(value[1], f"{field}[1]")


def validate_racer(value: Any, field: str) -> RacerConfig:
    obj = _object(value, field, RACER_KEYS)
    for key in ("optimizer", "lr"):
        if key not in obj:
            raise ConfigError(f"{field}.{key}", "is required")
    name = _registered(obj["optimizer"], f"{field}.optimizer", OPTIMIZERS, "optimizer")
    spec = OPTIMIZERS[name]
    lr = LR.validate(obj["lr"], f"{field}.lr")
    params = validate_params(
        spec.params, obj.get("params"), f"{field}.params", f"optimizer '{name}'"
    )
    spec.limits.check(params, f"{field}.params")
    schedule = obj.get("schedule")
    schedule = (
        NamedParams("constant", {})
        if schedule is None
        else _named(schedule, f"{field}.schedule", SCHEDULES, "schedule")
    )
    clip = CLIP.validate(obj.get("clip_norm"), f"{field}.clip_norm")
    label = obj.get("label")
    label = None if label is None else as_text(label, f"{field}.label", limit=MAX_LABEL)
    rho, adaptive = _sam(obj, field, name)
    return RacerConfig(name, lr, params, schedule, clip, label, rho, adaptive)


def _sam(obj: dict[str, Any], field: str, name: str) -> tuple[float | None, bool]:
    """SAM's ρ and form, refused for an optimizer whose step is not one gradient at its
    parameters (``Limits.sam``)."""
    rho = SAM_RHO.validate(obj.get("sam_rho"), f"{field}.sam_rho")
    adaptive = obj.get("sam_adaptive")
    if adaptive is not None:  # absent or null: SAM's own form
        adaptive = SAM_ADAPTIVE.validate(adaptive, f"{field}.sam_adaptive")
    spec = OPTIMIZERS[name]
    if rho is not None and not spec.limits.sam:
        takes = ", ".join(n for n, s in OPTIMIZERS.items() if s.limits.sam)
        raise ConfigError(
            f"{field}.sam_rho",
            f"SAM replaces the one gradient a step takes with the gradient at a perturbed "
            f"point; {spec.card.title} ({name}) evaluates more than one gradient, function "
            f"values or a Hessian a step, so it cannot take SAM (optimizers that can: {takes})",
        )
    return rho, bool(adaptive) and rho is not None


def _surface_part(obj: dict[str, Any]) -> tuple[NamedParams, tuple[float, float]]:
    """The surface and the start on it."""
    if "surface" not in obj:
        raise ConfigError("surface", "is required")
    surface_cfg = _named(obj["surface"], "surface", SURFACES, "surface")
    surface = get_surface(surface_cfg.name, **surface_cfg.params)

    if obj.get("start") is None:
        return surface_cfg, surface.default_start
    start = _point(obj["start"], "start")
    low, high = surface.divergence_box()
    for i in range(2):
        if not low[i] < start[i] < high[i]:
            raise ConfigError(
                f"start[{i}]",
                f"must lie within ({low[i]:.6g}, {high[i]:.6g}) for this surface",
            )
    return surface_cfg, start


def _settings_part(obj: dict[str, Any]) -> tuple[int, float, NoiseConfig]:
    """Steps, tolerance and noise."""
    steps = STEPS.validate(obj.get("steps", STEPS.default), "steps")
    tol = TOL.validate(obj.get("tol", TOL.default), "tol")
    noise_obj = _object(obj.get("noise") or {}, "noise", ("std", "seed"))
    noise = NoiseConfig(
        NOISE_STD.validate(noise_obj.get("std", 0.0), "noise.std"),
        NOISE_SEED.validate(noise_obj.get("seed", 0), "noise.seed"),
    )
    return steps, tol, noise


def _racers_list(obj: dict[str, Any]) -> list[Any]:
    if "racers" not in obj:
        raise ConfigError("racers", "is required")
    racers = obj["racers"]
    if not isinstance(racers, list):
        raise ConfigError("racers", f"must be a list, got {type_name(racers)}")
    if not 1 <= len(racers) <= MAX_RACERS:
        raise ConfigError("racers", f"must hold 1 to {MAX_RACERS} racers, got {len(racers)}")
    return racers


def racer_on_surface(racer: RacerConfig, surface: str, field: str) -> None:
    """Refuse an optimizer that needs residuals (``Limits.residuals``) on a surface
    that is not a sum of squares, naming both and the surfaces that are."""
    spec = OPTIMIZERS[racer.optimizer]
    if spec.limits.residuals and not sum_of_squares(surface):
        fits = ", ".join(name for name in SURFACES if sum_of_squares(name))
        raise ConfigError(
            f"{field}.optimizer",
            f"{spec.card.title} needs a sum of squares f = ½‖r‖², and the surface "
            f"'{SURFACES[surface].title}' ({surface}) is not one (sums of squares: {fits})",
        )


def validate_race(data: Any) -> RaceConfig:
    """Turn untrusted JSON (already parsed) into a RaceConfig, or raise ConfigError."""
    obj = _object(data, "", RACE_KEYS)
    surface_cfg, start = _surface_part(obj)
    steps, tol, noise = _settings_part(obj)
    racers = _racers_list(obj)
    checked = tuple(validate_racer(r, f"racers[{i}]") for i, r in enumerate(racers))
    for i, racer in enumerate(checked):
        racer_on_surface(racer, surface_cfg.name, f"racers[{i}]")
    budget = WORK_BUDGET.validate(obj.get("work_budget"), "work_budget")
    return RaceConfig(surface_cfg, start, steps, tol, noise, checked, budget)


def race_errors(data: Any) -> list[ConfigError]:
    """Every refused part of a race: the surface, the settings and each racer, one refusal
    apiece (``validate_race`` stops at the first). The page shows each beside its controls,
    so two wrong boxes in two cards both say so at once."""
    try:
        obj = _object(data, "", RACE_KEYS)
    except ConfigError as error:
        return [error]
    found: list[ConfigError] = []

    def attempt(check: Any, *args: Any) -> Any:
        try:
            return check(*args)
        except ConfigError as error:
            found.append(error)
            return None

    surface = attempt(_surface_part, obj)
    attempt(_settings_part, obj)
    attempt(WORK_BUDGET.validate, obj.get("work_budget"), "work_budget")
    racers = attempt(_racers_list, obj) or []
    for i, racer in enumerate(racers):
        checked = attempt(validate_racer, racer, f"racers[{i}]")
        if checked is not None and surface is not None:
            attempt(racer_on_surface, checked, surface[0].name, f"racers[{i}]")
    return found


# Batches (sweeps, noisy fans, many starts) multiply a race's work; this bounds one request:
# 12 racers × 48 rates × 5,000 steps fit, and cost about half a second and 250 MB at most.
MAX_RUN_STEPS = 3_000_000

GRID_LOW = Param("low", RateGrid.low, low=0.0, high=10.0, low_open=True, help="smallest rate swept")
GRID_HIGH = Param(
    "high", RateGrid.high, low=0.0, high=10.0, low_open=True, help="largest rate swept"
)
GRID_COUNT = Param(
    "count", RateGrid.count, kind="int", low=2, high=64, help="rates in the log grid"
)
CRITERION = Param(
    "criterion",
    DEFAULT_CRITERION,
    kind="choice",
    choices=tuple(CRITERIA),
    help="how a rate is judged: " + ", or ".join(c.text for c in CRITERIA.values()),
)
FAN_RUNS = Param("runs", 32, kind="int", low=2, high=64, help="noise seeds per racer")
STARTS_RACER = Param(
    "racer", 0, kind="int", low=0, high=MAX_RACERS - 1, help="which racer runs from every start"
)
STARTS_LAYOUT = Param(
    "layout", "grid", kind="choice", choices=("grid", "cloud"), help="a grid or a random cloud"
)
STARTS_COUNT = Param(
    "count", 64, kind="int", low=4, high=256, help="starts (a grid uses the largest square ≤ it)"
)
STARTS_SEED = dataclasses.replace(NOISE_SEED, help="seed of the cloud")

SWEEP_KEYS = ("race", "grid", "criterion")
FAN_KEYS = ("race", "runs")
STARTS_KEYS = ("race", "racer", "layout", "count", "seed")


class WorkLimitError(ConfigError):
    """A request refused for its work alone: the message names each factor of it, the total
    and the limit, so whoever asked (the page's views say it in place of a chart) sees what
    to cut."""


Factors = list[tuple[int, str]]


def run_steps(factors: Factors, steps: int) -> int:
    """The work of a batch: the product of its factors (racers, rates, runs, starts) times
    the steps of each run. The one measure of work: the limit of one request below and the
    per-client budget (service/budget.py) both count in it."""
    runs = 1
    for count, _ in factors:
        runs *= count
    return runs * steps


def racer_cost(racer: RacerConfig) -> float:
    """What one step of ``racer`` costs, in plain steps (``Limits.step_cost``); SAM
    takes every gradient twice."""
    cost = OPTIMIZERS[racer.optimizer].limits.step_cost(racer.params)
    return cost * (2 if racer.sam_rho else 1)


def racers_factor(racers: Sequence[RacerConfig]) -> tuple[int, str]:
    """The racers as a factor of work: their number, or, where some steps cost more than a
    plain one (L-BFGS's history, a line search, Sophia's probes, SAM), their summed cost."""
    cost = math.ceil(sum(racer_cost(r) for r in racers) - 1e-9)
    if cost <= len(racers):
        return (len(racers), "racers")
    return (cost, f"racer-steps' cost ({len(racers)} racers; some steps cost several)")


def race_work(race: RaceConfig, fan_runs: int = 0) -> Factors:
    """A race's factors; with ``fan_runs`` each racer also runs that many noise seeds (the
    page shows the spread of a noisy race), so each racer runs 1 + fan_runs times."""
    return [racers_factor(race.racers), (1 + fan_runs, "runs")]


def sweep_work(race: RaceConfig, grid: RateGrid) -> Factors:
    return [racers_factor(race.racers), (grid.count + 1, "rates (each racer's own too)")]


def fan_work(race: RaceConfig, runs: int) -> Factors:
    return [racers_factor(race.racers), (runs, "runs")]


def starts_work(count: int, racer: RacerConfig) -> Factors:
    factors = [(count, "starts")]
    cost, _ = racers_factor([racer])
    return factors if cost == 1 else [*factors, (cost, "step cost of the racer")]


def _budget(what: str, factors: Factors, steps: int, field: str) -> None:
    total = run_steps(factors, steps)
    if total > MAX_RUN_STEPS:
        parts = " × ".join(f"{count:,} {name}" for count, name in factors)
        raise WorkLimitError(
            field,
            f"Too much work for one {what}: {parts} × {steps:,} steps = {total:,} "
            f"run-steps; the limit is {MAX_RUN_STEPS:,}. Use fewer racers or steps.",
        )


def _option(param: Param, obj: dict[str, Any], prefix: str = "") -> Any:
    return param.validate(obj.get(param.name, param.default), prefix + param.name)


def _race_in(obj: dict[str, Any]) -> RaceConfig:
    if "race" not in obj:
        raise ConfigError("race", "is required")
    try:
        return validate_race(obj["race"])
    except ConfigError as error:
        raise ConfigError(f"race.{error.field}" if error.field else "race", error.message) from None


def sweep_options(options: Any, race: RaceConfig) -> SweepRequest:
    """The sweep's own options (``grid``, ``criterion``) for an already validated race."""
    obj = _object(options if options is not None else {}, "", SWEEP_KEYS)
    grid_obj = _object(obj.get("grid") or {}, "grid", ("low", "high", "count"))
    grid = RateGrid(
        _option(GRID_LOW, grid_obj, "grid."),
        _option(GRID_HIGH, grid_obj, "grid."),
        _option(GRID_COUNT, grid_obj, "grid."),
    )
    if not grid.low < grid.high:
        raise ConfigError("grid.high", "must be larger than grid.low")
    _budget("sweep", sweep_work(race, grid), race.steps, "grid.count")
    return SweepRequest(race, grid, _option(CRITERION, obj))


def fan_options(options: Any, race: RaceConfig) -> FanRequest:
    obj = _object(options if options is not None else {}, "", FAN_KEYS)
    if race.noise.std == 0:
        raise ConfigError("race.noise.std", "must be above 0: without noise every run is the same")
    runs = _option(FAN_RUNS, obj)
    _budget("fan", fan_work(race, runs), race.steps, "runs")
    return FanRequest(race, runs)


def starts_options(options: Any, race: RaceConfig) -> StartsRequest:
    obj = _object(options if options is not None else {}, "", STARTS_KEYS)
    racer = _option(STARTS_RACER, obj)
    if racer >= len(race.racers):
        raise ConfigError("racer", f"must be a racer's position, 0 to {len(race.racers) - 1}")
    count = _option(STARTS_COUNT, obj)
    _budget("view of many starts", starts_work(count, race.racers[racer]), race.steps, "count")
    return StartsRequest(race, racer, _option(STARTS_LAYOUT, obj), count, _option(STARTS_SEED, obj))


def validate_sweep(data: Any) -> SweepRequest:
    """A sweep request body: ``race`` plus the sweep's options."""
    obj = _object(data, "", SWEEP_KEYS)
    return sweep_options(obj, _race_in(obj))


def validate_fan(data: Any) -> FanRequest:
    obj = _object(data, "", FAN_KEYS)
    return fan_options(obj, _race_in(obj))


def validate_starts(data: Any) -> StartsRequest:
    obj = _object(data, "", STARTS_KEYS)
    return starts_options(obj, _race_in(obj))


def _refuse_constant(name: str) -> Any:
    raise ConfigError("", f"{name} is not allowed in JSON; send finite numbers")


def parse_json(body: str | bytes, limit: int = MAX_BODY_BYTES) -> Any:
    """Parse a request body with a size limit; NaN, Infinity and deep nesting are refused."""
    size = len(body.encode() if isinstance(body, str) else body)
    if size > limit:
        raise ConfigError("", f"body is {size} bytes; the limit is {limit}")
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise ConfigError("", "JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError("", "body is not valid JSON") from None


def parse_race(body: str | bytes) -> RaceConfig:
    return validate_race(parse_json(body))


__all__ = [
    "MAX_RACERS",
    "MAX_STEPS",
    "ConfigError",
    "parse_json",
    "parse_race",
    "race_errors",
    "validate_fan",
    "validate_race",
    "validate_starts",
    "validate_sweep",
]
