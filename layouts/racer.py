"""A racer's card: optimizer, rate, its hyper-parameters, schedule, clipping, sharpness-aware
steps (SAM), visibility."""

from __future__ import annotations

import math
from typing import Any

from dash import dcc, html

from layouts import ids
from layouts.controls import CARD_LABELS, number_box, number_field, param_controls
from layouts.equation import update_rule
from layouts.method_notes import method_note
from optimizers.base import LR
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import MAX_LABEL, SAM_ADAPTIVE, SAM_RHO
from service.compact import style

LOG_LR_MIN, LOG_LR_MAX = -5, 1  # the slider spans 1e-5 … 10; the box takes any valid rate


def racer_id(kind: str, index: int) -> dict[str, Any]:
    return {"type": kind, "index": index}


def optimizer_params(index: int, optimizer: str, values: dict[str, Any]) -> list:
    spec = OPTIMIZERS[optimizer]
    controls = param_controls(ids.RACER_PARAM, spec.params, values, index, optimizer)
    # Where a result that looks broken is the method's own doing, the card says so first.
    note = method_note(optimizer)
    if note is not None:
        controls = [html.P(note, className="param-note method-note"), *controls]
    if spec.kernel.swept == "lr":
        return controls
    # An optimizer that takes no rate (Gauss–Newton) says so; its card hides the rate box
    # (inputs.css) and its quick slider is disabled (assets/quick.js), both by this note.
    note = html.P(
        f"No learning rate: {spec.card.title}'s step length is set by {spec.kernel.swept}.",
        className="param-note no-lr",
    )
    return [note, *controls]


def schedule_params(index: int, schedule: str, values: dict[str, Any]) -> list:
    params = SCHEDULES[schedule].params
    return param_controls(ids.RACER_SCHED_PARAM, params, values, index, schedule)


def lr_slider_value(lr: Any) -> float | None:
    """Position of a rate on the log slider, or None when the box holds no usable rate."""
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        return None
    return min(max(math.log10(lr), LOG_LR_MIN), LOG_LR_MAX)


def racer_card(index: int, racer: dict[str, Any], noisy: bool = False) -> html.Div:
    """``racer`` is a validated racer's JSON form (every parameter present)."""
    optimizer = racer["optimizer"]
    schedule = racer.get("schedule", {"name": "constant", "params": {}})
    look = style(index)
    return html.Div(
        id=racer_id(ids.RACER_CARD, index),
        className="racer-card",
        style={"borderLeftColor": look["color"]},
        children=[
            html.Div(
                className="racer-head",
                children=[
                    html.Span(
                        className=f"racer-swatch marker-{look['marker']}",
                        style={"backgroundColor": look["color"]},
                        title=look["marker"],
                    ),
                    dcc.Dropdown(
                        id=racer_id(ids.RACER_OPTIMIZER, index),
                        options=[
                            {"label": s.card.title, "value": s.name} for s in OPTIMIZERS.values()
                        ],
                        value=optimizer,
                        clearable=False,
                        className="racer-optimizer",
                    ),
                    dcc.Checklist(
                        id=racer_id(ids.RACER_VISIBLE, index),
                        options=[{"label": "show", "value": "on"}],
                        value=["on"],
                        className="racer-visible",
                    ),
                    html.Button(
                        "PyTorch",
                        id=racer_id(ids.RACER_PYTORCH, index),
                        className="racer-pytorch",
                        title="this racer's setup as torch.optim code",
                        **{"data-action": "pytorch", "data-index": str(index)},
                    ),
                    html.Button(
                        "✕",
                        id=racer_id(ids.RACER_REMOVE, index),
                        className="racer-remove",
                        title="remove this racer",
                        n_clicks=0,
                    ),
                ],
            ),
            html.Label(  # the label names the box; the slider is named by assets/a11y.js
                className="racer-lr",
                title=LR.help,
                children=[
                    html.Span(CARD_LABELS["lr"], className="param-name"),
                    dcc.Slider(
                        id=racer_id(ids.RACER_LR_SLIDER, index),
                        min=LOG_LR_MIN,
                        max=LOG_LR_MAX,
                        step=0.01,
                        value=lr_slider_value(racer["lr"]),
                        marks={d: f"1e{d}" for d in range(LOG_LR_MIN, LOG_LR_MAX + 1)},
                        updatemode="mouseup",
                        allow_direct_input=False,
                    ),
                    number_box(racer_id(ids.RACER_LR, index), racer["lr"], LR, CARD_LABELS["lr"]),
                    # A rate nobody has changed follows the optimizer (callbacks/wiring.py).
                    dcc.Store(
                        id=racer_id(ids.RACER_DEFAULT_LR, index),
                        data=OPTIMIZERS[optimizer].card.default_lr,
                    ),
                ],
            ),
            html.Div(
                id=racer_id(ids.RACER_PARAMS, index),
                className="racer-params",
                children=optimizer_params(index, optimizer, racer.get("params", {})),
            ),
            html.Label(
                className="param",
                children=[
                    html.Span("schedule", className="param-name"),
                    dcc.Dropdown(
                        id=racer_id(ids.RACER_SCHEDULE, index),
                        options=[{"label": s.title, "value": s.name} for s in SCHEDULES.values()],
                        value=schedule["name"],
                        clearable=False,
                    ),
                ],
            ),
            html.Div(
                id=racer_id(ids.RACER_SCHED_PARAMS, index),
                className="racer-params",
                children=schedule_params(index, schedule["name"], schedule.get("params", {})),
            ),
            number_field(
                racer_id(ids.RACER_CLIP, index),
                CARD_LABELS["clip_norm"],
                racer.get("clip_norm"),
                "clip the gradient to this L2 norm before the update; empty: no clipping",
                placeholder="off",
            ),
            *sam_controls(index, racer),
            html.Label(
                className="param",
                title="the racer's name in the leaderboard and legends; empty: automatic",
                children=[
                    html.Span("label", className="param-name"),
                    dcc.Input(
                        id=racer_id(ids.RACER_LABEL, index),
                        type="text",
                        value=racer.get("label") or "",
                        debounce=True,
                        maxLength=MAX_LABEL,
                        placeholder="automatic",
                        className="param-text",
                    ),
                ],
            ),
            html.Div(id=racer_id(ids.RACER_ERROR, index), className="field-error"),
            # Folded: the rule is typeset (MathJax loads) when first opened (assets/rules.js).
            html.Details(
                className="equation",
                children=[
                    html.Summary("update rule"),
                    html.Div(id=racer_id(ids.RACER_EQUATION, index)),
                ],
                **{"data-rule": update_rule(racer, noisy)},
            ),
        ],
    )


def sam_controls(index: int, racer: dict[str, Any]) -> list[html.Label]:
    """SAM's ρ (empty: off) and its adaptive form, with the choices the validator states."""
    return [
        number_field(
            racer_id(ids.RACER_SAM, index),
            CARD_LABELS["sam_rho"],
            racer.get("sam_rho"),
            SAM_RHO.help,
            placeholder="off",
        ),
        html.Label(
            className="param",
            title=SAM_ADAPTIVE.help,
            children=[
                html.Span(CARD_LABELS["sam_adaptive"], className="param-name"),
                dcc.Checklist(
                    id=racer_id(ids.RACER_SAM_ADAPTIVE, index),
                    options=[{"label": "", "value": "on"}],
                    value=["on"] if racer.get("sam_adaptive") else [],
                    className="param-bool",
                ),
            ],
        ),
    ]
