"""The page's controls to the race JSON of race-config.md, and the opening race.

Nothing here judges a value: the form only restores shapes (a checklist to a boolean, two
boxes to a pair), marks what number boxes sent as typed text (``typed``: the validator reads
it as a number and quotes it when it refuses it) and hands everything, forged or not, to the
one validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.errors import ConfigError
from common.params import Param, typed
from layouts.controls import PAIR_SEPARATOR
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from surfaces import SURFACES

# A curved valley from the far arm: SGD crawls, momentum at the same rate arrives, RMSProp and
# Adam adapt their steps (Adam reaches the minimum within the race).
OPENING_RACE: dict[str, Any] = {
    "surface": {"name": "rosenbrock", "params": {}},
    "steps": 1000,
    "noise": {"std": 0.0, "seed": 0},
    "racers": [
        {"optimizer": "sgd", "lr": 1e-3},
        {"optimizer": "momentum", "lr": 1e-3},
        {"optimizer": "rmsprop", "lr": 1e-2},
        {"optimizer": "adam", "lr": 0.1},
    ],
}


def from_controls(params: tuple[Param, ...], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Control values back to a ``params`` object for the validator.

    Names that are not controls of these params are passed on unchanged, and the validator
    refuses them.
    """
    by_name = {p.name: p for p in params}
    out: dict[str, Any] = {}
    pairs: dict[str, dict[int, Any]] = {}
    for name, value in raw.items():
        base, sep, part = name.partition(PAIR_SEPARATOR)
        if sep and base in by_name and by_name[base].kind == "pair" and part in ("0", "1"):
            pairs.setdefault(base, {})[int(part)] = typed(value)
            continue
        p = by_name.get(name)
        if p is not None and p.kind == "bool" and isinstance(value, list):
            value = "on" in value
        elif p is not None and p.kind in ("float", "int"):
            value = typed(value)
        out[name] = value
    for name, parts in pairs.items():
        out[name] = [parts.get(0), parts.get(1)]
    return out


def grouped(entries: list[dict[str, Any]], field: str) -> dict[Any, dict[str, Any]]:
    """Pattern-matching inputs ``[{"id": {...}, "value": v}, ...]`` by racer index and name.

    The ids come from the request, so they are checked like any other input.
    """
    out: dict[Any, dict[str, Any]] = {}
    for entry in entries:
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(ident, dict):
            raise ConfigError(field, "has a malformed control id")
        index, name = ident.get("index"), ident.get("name")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ConfigError(field, "has a control id without a valid racer index")
        slot = out.setdefault(index, {})
        if name is None:
            slot[""] = entry.get("value")
        elif isinstance(name, str) and len(name) <= 40:
            slot[name] = entry.get("value")
        else:
            raise ConfigError(field, "has a control id with an invalid name")
    return out


def current(entries: list[dict[str, Any]], owners: Mapping[Any, Any]) -> list[dict[str, Any]]:
    """Parameter controls' entries without those built for another optimizer (or schedule)
    than their card's current one (``owners``: the card's choice by racer index).

    A card's parameter controls are replaced a round trip after its optimizer changes
    (callbacks/wiring.py ``regenerate``); a request sent meanwhile, for another card's change
    or the rate that follows the optimizer, still carries the old optimizer's controls. Those
    are stale, not wrong, and are left out here, as their id says whose they are
    (layouts/controls.py ``param_id``). An entry naming the current owner, or none, goes to
    the validator like any other input: a parameter the optimizer does not have is refused
    there, whoever sent it."""

    def stale(entry: Any) -> bool:
        ident = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(ident, dict) or "owner" not in ident:
            return False  # not the page's shape: ``grouped`` and the validator judge it
        index = ident.get("index")
        return isinstance(index, int) and ident["owner"] != owners.get(index)

    return [entry for entry in entries if not stale(entry)]


def known(registry: Mapping[str, Any], name: Any) -> Any:
    """The registry entry for ``name`` if there is one (the validator reports unknown names)."""
    return registry.get(name) if isinstance(name, str) else None


def racer_from_controls(
    optimizer: Any,
    lr: Any,
    params: Mapping[str, Any],
    schedule: Any,
    schedule_params: Mapping[str, Any],
    clip: Any,
    label: Any = None,
) -> dict[str, Any]:
    spec = known(OPTIMIZERS, optimizer)
    sched = known(SCHEDULES, schedule)
    return {
        "optimizer": optimizer,
        "lr": typed(lr),
        "params": from_controls(spec.params, params) if spec else dict(params),
        "schedule": {
            "name": schedule,
            "params": from_controls(sched.params, schedule_params)
            if sched
            else dict(schedule_params),
        },
        "clip_norm": typed(clip),
        "label": label if label != "" else None,  # an emptied box means the default label
    }


def sam_from_controls(rho: Mapping[str, Any], adaptive: Mapping[str, Any]) -> dict[str, Any]:
    """A card's SAM controls (grouped entries: a ρ box, an ASAM checklist) as racer keys:
    none while the ρ box is empty (or missing), so a racer without SAM is the racer it was."""
    value = rho.get("")
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    ticked = adaptive.get("")
    return {"sam_rho": typed(value), "sam_adaptive": isinstance(ticked, list) and "on" in ticked}


def surface_from_controls(name: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    spec = known(SURFACES, name)
    return {"name": name, "params": from_controls(spec.params, params) if spec else dict(params)}
