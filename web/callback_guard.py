"""Dash callback requests held to their callback's declared shape before Dash reads them.

Every ``POST /_dash-update-component`` names its callback (``output``) and carries one entry
per input, state and output the callback declares; a pattern-matching (ALL) one carries a
list, one entry per matching component on the page. Dash trusts what the request says: it
prepares a callback by scanning the whole ``changedPropIds`` list once per input entry, and a
callback that reads what Dash rebuilds per read pays per changed input again. A forged
request of 100 KB listing 2,000 changed inputs held a worker for 28 s (issue 24).

So each request is checked here against the app's own registry (``app.callback_map``), in one
pass over the parsed body: the callback must be a server callback, its inputs, states and
outputs exactly as many as it declares, each a single entry or a list where Dash expects one,
with the declared id and property; a list no longer than the page can hold; and
``changedPropIds`` no longer than the callback's inputs can be, each naming one of them.
Anything else is refused with 400 and a sentence saying what did not fit, before Dash, the
engine or the work budget spends anything. The body is parsed once (Flask keeps the parsed
JSON for Dash) and is at most ``MAX_REQUEST_BYTES`` (web/hardening.py); the check costs
O(its size).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from dash import Dash
from flask import Response, request

from layouts.controls import MAX_PAGE_RACERS
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import MAX_RACERS
from surfaces import SURFACES

log = logging.getLogger(__name__)
UPDATE_ENDPOINT = "/_dash-update-component"
MULTI = (["ALL"], ["ALLSMALLER"])  # a wildcard matching many components (MATCH: one)
# A page built by another release (during a rolling restart) may carry a control or two the
# registries here no longer have: twice the count never refuses it, and keeps Dash's own
# preparation (changed inputs × input entries) under a million comparisons.
SLACK = 2


def wildcard_bounds() -> dict[str, int]:
    """The most values each wildcard key of the page's pattern-matching ids takes.

    ``index`` numbers racers' cards: the page adds at most ``MAX_PAGE_RACERS``, but a share
    link (made by the API) opens with up to the validator's ``MAX_RACERS`` cards, which the
    race callback then refuses with a message. ``name`` names a parameter's control: at most
    as many as any one optimizer, schedule or surface has (a pair parameter has two boxes).
    ``owner`` names the optimizer or schedule a racer's parameter control was built for: a
    card holds one owner's controls at a time, so it adds no entries to the page's list."""
    controls = max(
        sum(2 if p.kind == "pair" else 1 for p in spec.params)
        for registry in (OPTIMIZERS, SCHEDULES, SURFACES)
        for spec in registry.values()
    )
    return {"index": max(MAX_PAGE_RACERS, MAX_RACERS), "name": controls, "owner": 1}


class ShapeError(Exception):
    """A request that does not fit its callback; the message says what did not."""


@dataclass(frozen=True)
class Dependency:
    """One declared input, state or output: its id (a string, or a dict whose wildcard values
    are Dash's ``["ALL"]``, ``["MATCH"]`` or ``["ALLSMALLER"]``) and property; ``most`` is how
    many entries a request may carry for it (a list when ``multi``, else one)."""

    id: str | dict[str, Any]
    prop: str
    multi: bool
    most: int

    def fits(self, ident: Any, prop: Any) -> bool:
        # An output's property may carry Dash's "@<hash>" (allow_duplicate).
        if not isinstance(prop, str) or prop.split("@")[0] != self.prop:
            return False
        if isinstance(self.id, str):
            return ident == self.id
        if not isinstance(ident, dict) or ident.keys() != self.id.keys():
            return False
        return all(
            isinstance(ident[k], (str, int, float)) if isinstance(v, list) else ident[k] == v
            for k, v in self.id.items()
        )

    def named(self) -> str:
        ident = self.id if isinstance(self.id, str) else json.dumps(self.id, separators=(",", ":"))
        return f"{ident}.{self.prop}"


def dependency(spec: Mapping[str, Any], bounds: Mapping[str, int]) -> Dependency:
    """``spec`` as Dash registers it ({"id": str, "property": str}; a dict id is stringified
    JSON)."""
    raw, prop = spec["id"], spec["property"].split("@")[0]
    ident = json.loads(raw) if raw.startswith("{") else raw
    if not isinstance(ident, dict):
        return Dependency(ident, prop, False, 1)
    wild = [k for k, v in ident.items() if v in MULTI]
    if not wild:
        return Dependency(ident, prop, False, 1)
    missing = [k for k in wild if k not in bounds]
    if missing:
        raise ValueError(
            f"no bound for the wildcard key {missing[0]!r} of {raw}: add it to wildcard_bounds"
        )
    most = SLACK
    for key in wild:
        most *= bounds[key]
    return Dependency(ident, prop, True, most)


@dataclass(frozen=True)
class Shape:
    """What a request of one server callback carries."""

    inputs: tuple[Dependency, ...]
    state: tuple[Dependency, ...]
    outputs: tuple[Dependency, ...] | None  # None: Dash ignores them (no_output)
    multi_output: bool  # the outputs arrive as a list (the callback's id starts "..")

    @property
    def most_changed(self) -> int:
        return sum(d.most for d in self.inputs)


def shapes(callback_map: Mapping[str, Mapping[str, Any]]) -> dict[str, Shape]:
    """The server callbacks' shapes by their output id (clientside ones are not answered)."""
    bounds = wildcard_bounds()
    out = {}
    for key, entry in callback_map.items():
        if "callback" not in entry:
            continue
        declared = entry["output"]
        outputs = declared if isinstance(declared, (list, tuple)) else [declared]
        out[key] = Shape(
            inputs=tuple(dependency(d, bounds) for d in entry["inputs"]),
            state=tuple(dependency(d, bounds) for d in entry["state"]),
            outputs=None
            if entry.get("no_output")
            else tuple(dependency(o.to_dict(), bounds) for o in outputs),
            multi_output=key.startswith(".."),
        )
    return out


def _entries(kind: str, given: Any, declared: tuple[Dependency, ...]) -> None:
    """Refuses ``given`` (a request's inputs, state or outputs) unless it fits ``declared``."""
    if not isinstance(given, list):
        raise ShapeError(f"{kind} must be a list")
    if len(given) != len(declared):
        raise ShapeError(
            f"this callback takes {len(declared)} {kind}, the request has {len(given)}"
        )
    for dep, value in zip(declared, given, strict=True):
        items = value if dep.multi else [value]
        if dep.multi and not isinstance(value, list):
            raise ShapeError(f"{kind} {dep.named()} must be a list")
        if len(items) > dep.most:
            raise ShapeError(
                f"{kind} {dep.named()} lists {len(items)} entries; the page has at most {dep.most}"
            )
        for item in items:
            if not isinstance(item, dict):
                raise ShapeError(f"each entry of {kind} {dep.named()} must be an object")
            if not dep.fits(item.get("id"), item.get("property")):
                raise ShapeError(f"an entry of {kind} is not {dep.named()}")


def _changed(given: Any, shape: Shape) -> None:
    """``changedPropIds``: at most as many as the inputs can be, each naming one of them.

    Checked against the declared inputs rather than the request's own entries: the page
    keeps a changed control that a card's removal took off the page while the callback
    waited (the add/remove callback answers such a request with no change)."""
    if not isinstance(given, list):
        raise ShapeError("changedPropIds must be a list")
    if len(given) > shape.most_changed:
        raise ShapeError(
            f"changedPropIds lists {len(given)} props, more than this callback's inputs "
            f"can be ({shape.most_changed})"
        )
    for prop_id in given:
        if not isinstance(prop_id, str):
            raise ShapeError("changedPropIds must hold strings")
        raw, _, prop = prop_id.rpartition(".")
        try:
            ident = json.loads(raw) if raw.startswith("{") else raw
        except (ValueError, RecursionError):
            raise ShapeError(f"changedPropIds names an unreadable id ({raw[:60]!r})") from None
        if not any(d.fits(ident, prop) for d in shape.inputs):
            raise ShapeError(
                f"changedPropIds names {prop_id[:80]!r}, not an input of this callback"
            )


def check(body: Any, table: Mapping[str, Shape]) -> None:
    """Refuses (``ShapeError``) a callback request ``body`` that does not fit its callback."""
    if not isinstance(body, dict):
        raise ShapeError("the body must be a JSON object")
    output = body.get("output")
    shape = table.get(output) if isinstance(output, str) else None
    if shape is None:
        raise ShapeError(f"no server callback has the output {str(output)[:80]!r}")
    _entries("inputs", body.get("inputs", []), shape.inputs)
    _entries("state", body.get("state", []), shape.state)
    if shape.outputs is not None:
        outputs = body.get("outputs")
        _entries("outputs", outputs if shape.multi_output else [outputs], shape.outputs)
    _changed(body.get("changedPropIds", []), shape)


def guard_callbacks(app: Dash, refuse: Callable[[int, str], Response]) -> None:
    """Wraps Dash's callback view: a request that does not fit its callback's declared shape
    is answered ``refuse(400, why)`` before Dash reads it.

    Call it once every callback is registered (web/hardening.py ``harden``): the shapes are
    read from ``app.callback_map`` here, and a callback added later is refused as unknown."""
    table = shapes(app.callback_map)
    server = app.server
    view = server.view_functions[UPDATE_ENDPOINT]

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            body = request.get_json(silent=True)  # kept by Flask: Dash reads the same object
        except RecursionError:  # nested deeper than the parser goes
            body = None
        try:
            check(body, table)
        except ShapeError as why:
            log.warning("callback request refused: %s", why)
            return refuse(400, f"callback request refused: {why}")
        return view(*args, **kwargs)

    server.view_functions[UPDATE_ENDPOINT] = guarded
