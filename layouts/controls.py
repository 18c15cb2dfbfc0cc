"""One control per registry parameter (``Param``): the UI is generated, never hand-listed.

Number boxes are text boxes with their own − and + (assets/inputs.js): the browser's number
input sends nothing usable for text it cannot read (so a refusal could not quote it) and its
spinners step by 1 whatever the parameter. The box sends what was typed; the validator reads
it (``common.params.parse_number``) and its refusal quotes it. − and + step by the rule of
``Param.stepping()``, carried on the box as ``data-step``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from dash import dcc, html

from common.params import Param
from layouts import ids
from optimizers.base import LR
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import (
    CLIP,
    MAX_STEPS,
    NOISE_SEED,
    NOISE_STD,
    SAM_RHO,
    STEPS,
    WORK_BUDGET,
)
from surfaces import SURFACES

PAIR_SEPARATOR = ":"
MIN_PAGE_STEPS = 10  # shorter races show nothing; the engine itself accepts 1
MAX_PAGE_RACERS = 8  # the page's cards and colours; the API takes up to the validator's limit

# The page's own number fields outside the registries, by control id (type), with the Param
# the validator applies to them: their bounds, messages and +/− steps come from it.
PAGE_STEPS = dataclasses.replace(
    STEPS,
    low=MIN_PAGE_STEPS,
    high=MAX_STEPS,
    scale="log",  # + and − move along 10, 20, 50, 100, …, 5,000
    help=f"number of optimizer steps, {MIN_PAGE_STEPS} … {MAX_STEPS:,}",
)
# How a message names each kind of control's field (callbacks/race.py place_error): the box
# a message names is marked invalid beside it (assets/inputs.js). The validator's field, and
# in a racer's card the name its control shows (``card_field``).
FIELD_PREFIX = {
    ids.RACER_PARAM: "params.",
    ids.RACER_SCHED_PARAM: "schedule.params.",
    ids.SURFACE_PARAM: "surface.params.",
}
CARD_KINDS = {ids.RACER_PARAM, ids.RACER_SCHED_PARAM, ids.RACER_CLIP, ids.RACER_SAM, ids.RACER_LR}
# A card's controls outside the registries, by the racer's field each sets; parameters are
# named by their Param.label.
CARD_LABELS = {
    "lr": "learning rate",
    "clip_norm": "clip norm",
    "sam_rho": "SAM ρ",
    "sam_adaptive": "ASAM (adaptive)",
}
# Boxes whose emptiness means "off" (their placeholder says so): a refusal says it too, as 0
# is the number a person types for "off".
OFF_WHEN_EMPTY = ("clip_norm", "sam_rho")
PARAM_LABELS = {
    p.name: p.label
    for registry in (OPTIMIZERS, SCHEDULES)
    for spec in registry.values()
    for p in spec.params
}
# The settings' boxes and the surface's, by the validator's field: how a message beside them
# names them (``page_field``), as their labels do.
SETTINGS_LABELS = {
    "steps": "steps",
    "noise.std": "noise σ",
    "noise.seed": "noise seed",
    "work_budget": "work budget",
    "surface.name": "surface",
}
SURFACE_PARAM_LABELS = {p.name: p.label for spec in SURFACES.values() for p in spec.params}
CARD_FIELD = re.compile(r"^(schedule\.)?(params\.)?([a-z_0-9]+)(?:\[(\d+)\])?$")


def page_field(field: str) -> str:
    """A setting's or a surface parameter's field as its box is labelled: ``noise σ`` for
    ``noise.std``, ``work budget`` for ``work_budget``, ``a`` for ``surface.params.a``."""
    if field in SETTINGS_LABELS:
        return SETTINGS_LABELS[field]
    name = field.removeprefix(FIELD_PREFIX[ids.SURFACE_PARAM])
    return SURFACE_PARAM_LABELS.get(name, name) if name != field else field


def card_field(field: str) -> str:
    """A racer's field (after ``racers[i].``) as its card's control names it: ``SAM ρ`` for
    ``sam_rho``, ``weight decay`` for ``params.weight_decay``, ``betas (box 2)`` for
    ``params.betas[1]``, ``schedule warmup steps`` for ``schedule.params.warmup_steps``;
    anything else as it is. The validator's names are the API's; a card says what it shows."""
    match = CARD_FIELD.match(field)
    if not field or not match:
        return field or "racer"
    schedule, params, name, box = match.groups()
    label = PARAM_LABELS.get(name, name) if params else CARD_LABELS.get(name, name)
    if box is not None:
        label += f" (box {int(box) + 1})"
    return f"schedule {label}" if schedule and params else label


RACER_FIELD = re.compile(r"^racers\[(\d+)\](?:\.(.*))?$")


def reader_field(field: str) -> str:
    """A race's field as a reader of the page names it, for a note about a whole link:
    ``racer 1's learning rate`` for ``racers[0].lr``, ``noise σ`` for ``noise.std``."""
    match = RACER_FIELD.match(field)
    if match is None:
        return page_field(field)
    index, rest = match.groups()
    racer = f"racer {int(index) + 1}"
    return f"{racer}'s {card_field(rest)}" if rest else racer


PAGE_FIELD_NAMES = {
    ids.STEPS_INPUT: "steps",
    ids.NOISE_STD: "noise.std",
    ids.NOISE_SEED: "noise.seed",
    ids.RACER_CLIP: "clip_norm",
    ids.RACER_SAM: "sam_rho",
    ids.RACER_LR: "lr",
}
PAGE_FIELDS: dict[str, Param] = {
    ids.STEPS_INPUT: PAGE_STEPS,
    ids.NOISE_STD: NOISE_STD,
    ids.NOISE_SEED: NOISE_SEED,
    ids.WORK_BUDGET: WORK_BUDGET,
    ids.RACER_CLIP: CLIP,
    ids.RACER_SAM: SAM_RHO,
    ids.RACER_LR: LR,
}


def param_id(
    kind: str, name: str, index: int | None = None, owner: str | None = None
) -> dict[str, Any]:
    """Pattern-matching id of a parameter control; racers' controls carry their index and
    the optimizer (or schedule) they were built for, their ``owner``: after a card's optimizer
    changes, Dash replaces its controls a round trip later, and a request sent meanwhile still
    carries the old ones. The owner in their id tells the race callback they are stale
    (callbacks/form.py ``current``) instead of leaving it to guess from their names."""
    if index is None:
        return {"type": kind, "name": name}
    return {"type": kind, "index": index, "name": name, "owner": owner}


def param_controls(
    kind: str,
    params: tuple[Param, ...],
    values: dict[str, Any],
    index: int | None = None,
    owner: str | None = None,
) -> list:
    """A labelled input for each parameter, with its help as a tooltip and its bounds shown.
    A racer's controls name their card (``index``) and the registry entry they belong to
    (``owner``, see ``param_id``)."""
    rows = []
    for p in params:
        value = values.get(p.name, p.default)
        rows.append(
            html.Label(
                [
                    html.Span(p.label, className="param-name"),
                    _input(kind, p, value, index, owner),
                ],
                className="param",
                title=_tooltip(p),
            )
        )
    return rows


def _tooltip(p: Param) -> str:
    bounds = f" {p.bounds_text()}" if p.kind in ("float", "int", "pair") else ""
    return p.help + bounds


def _input(kind: str, p: Param, value: Any, index: int | None, owner: str | None):
    if p.kind == "bool":
        return dcc.Checklist(
            id=param_id(kind, p.name, index, owner),
            options=[{"label": "", "value": "on"}],
            value=["on"] if value else [],
            className="param-bool",
        )
    if p.kind == "choice":
        return dcc.Dropdown(
            id=param_id(kind, p.name, index, owner),
            options=list(p.choices),
            value=value,
            clearable=False,
            className="param-choice",
        )
    if p.kind == "pair":
        return html.Span(
            [
                _number(
                    param_id(kind, f"{p.name}{PAIR_SEPARATOR}{i}", index, owner),
                    value[i],
                    p,
                    f"{FIELD_PREFIX.get(kind, '')}{p.name}[{i}]",
                )
                for i in range(2)
            ],
            className="param-pair",
        )
    return _number(
        param_id(kind, p.name, index, owner), value, p, f"{FIELD_PREFIX.get(kind, '')}{p.name}"
    )


def _number(id_: dict[str, Any], value: Any, p: Param, field: str):
    placeholder = "auto" if p.nullable else ""
    return number_box(id_, value, p, p.label, placeholder=placeholder, field=field)


def number_box(
    id_: Any, value: Any, p: Param, label: str, placeholder: str = "", field: str | None = None
) -> html.Span:
    """A number box with − and + beside it, stepping by ``p``'s rule in the browser.

    The buttons are out of the tab order: ↑ and ↓ in the box do the same from the keyboard.
    ``field`` is how a refusal names this box (by default from ``PAGE_FIELD_NAMES``): while a
    message beside it names it, the box is marked invalid.
    """
    step = p.stepping()
    non_negative = p.low is not None and p.low >= 0
    kind = id_.get("type") if isinstance(id_, dict) else id_
    field = field or PAGE_FIELD_NAMES.get(kind, p.name)
    field = card_field(field) if kind in CARD_KINDS else page_field(field)
    return html.Span(
        className="num-field",
        **{"data-step": json.dumps(step, separators=(",", ":")), "data-field": field},
        children=[
            dcc.Input(
                id=id_,
                type="text",
                # A phone's decimal keypad has no minus sign: only where none is needed.
                inputMode="decimal" if non_negative else "text",
                value=value,
                debounce=True,
                placeholder=placeholder,
                spellCheck=False,
                className="param-number",
            ),
            *(
                html.Button(
                    sign,
                    type="button",
                    tabIndex="-1",
                    className="num-step",
                    title=f"{word} {label}",
                    **{"aria-label": f"{word} {label}", "data-direction": direction},
                )
                for sign, word, direction in (("−", "decrease", "-1"), ("+", "increase", "1"))
            ),
        ],
    )


def number_field(
    id_: Any, label: str, value: Any, help: str, param: Param | None = None, **attrs: Any
) -> html.Label:
    """A labelled number box outside the registries (steps, noise, clipping).

    Its bounds and steps come from ``param`` (by default its entry in ``PAGE_FIELDS``); of
    ``attrs`` only ``placeholder`` is used then. A field with no Param (the many-starts
    count, whose callback reads a JSON number) keeps the browser's number input, bounded by
    ``attrs`` (min, max, step).
    """
    kind = id_.get("type") if isinstance(id_, dict) else id_
    p = param or PAGE_FIELDS.get(kind)
    if p is None:
        box = dcc.Input(
            id=id_, type="number", value=value, debounce=True, className="param-number", **attrs
        )
    else:
        box = number_box(id_, value, p, label, placeholder=attrs.get("placeholder", ""))
    return html.Label(
        className="param",
        title=help,
        children=[html.Span(label, className="param-name"), box],
    )


def dialog(
    id_: str, class_name: str, title_id: str, title: str, body: list, buttons: list
) -> html.Dialog:
    """A modal dialog named by its heading, with its buttons in a row at the bottom."""
    return html.Dialog(
        id=id_,
        className=class_name,
        children=[
            html.H2(title, id=title_id),
            *body,
            html.Div(className="dialog-buttons", children=buttons),
        ],
        **{"aria-labelledby": title_id},
    )


def graph(id_: str, height: str | None = None, scroll_zoom: bool = False) -> dcc.Graph:
    """A chart whose figure the browser draws from a store (assets/): Dash only places it.
    Scroll-to-zoom only where it helps (the race's own plots): elsewhere the wheel scrolls
    the page. Without ``height`` the stylesheet sizes it (the race's plots fit the screen)."""
    config = {"displaylogo": False, "responsive": True, "scrollZoom": scroll_zoom}
    return dcc.Graph(
        id=id_, config=config, figure=BLANK_FIGURE, style={"height": height} if height else {}
    )


# What a chart shows until the browser draws it: nothing. Without a figure dcc.Graph draws
# Plotly's default axes, and measuring their tick labels cost the first screen ~50 ms a chart
# (five charts, the hidden views' included) before the real figures replace them.
BLANK_FIGURE = {
    "data": [],
    "layout": {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
    },
}
