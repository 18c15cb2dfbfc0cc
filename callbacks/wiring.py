"""Dash callbacks: each one adapts requests to a plain function and shapes its answer.

Every server callback is a public endpoint (``/_dash-update-component``): values, ids and
names in a request may be forged, so they only ever reach the validator, and a failure turns
into a message beside the control, never a traceback.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, Patch, State, ctx, no_update

from callbacks.analysis import confirm_tuned, starts_view, sweep_view, tune
from callbacks.form import known
from callbacks.race import PageInputs, RaceUpdate, race_update
from common.errors import ConfigError
from common.params import typed
from layouts import ids
from layouts.controls import MAX_PAGE_RACERS
from layouts.page import add_racer_state, surface_params
from layouts.racer import optimizer_params, racer_card, schedule_params
from optimizers.base import LR
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import validate_racer
from service.races import RaceService
from surfaces import SURFACES


def _ids(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "index": ALL, **extra}


# The race callback's inputs that arrive as one entry per racer (or parameter), with their ids.
PATTERN_INPUTS = (
    "surface_params",
    "optimizers",
    "lrs",
    "params",
    "schedules",
    "schedule_params",
    "clips",
    "labels",
    "sams",
    "sam_adaptives",
)


def _entries(given: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """A pattern-matching input's ``[{"id": …, "value": …}, …]`` from ``ctx.args_grouping``."""
    group = given.get(name)
    return [{"id": e.get("id"), "value": e.get("value")} for e in group or [] if hasattr(e, "get")]


def _stale(triggered: dict[str, Any], kind: str) -> set[int]:
    """Racer indices whose ``kind`` control fired: their dependent controls are being rebuilt.

    ``triggered`` is ``ctx.triggered_prop_ids`` (prop id -> component id), read once by the
    caller: Dash builds that dict anew from every changed input on each read, so reading it
    once per changed input cost the square of their number (2,000 forged ones: 28 s)."""
    out = set()
    for ident in triggered.values():
        if isinstance(ident, dict) and ident.get("type") == kind:
            index = ident.get("index")
            if isinstance(index, int):
                out.add(index)
    return out


def _store_output(update: RaceUpdate, previous: Any) -> Any:
    if update.store is None:
        return no_update
    store = dict(update.store)
    changed = store.pop("changed", None)
    if update.full or changed is None:
        return store
    patch = Patch()
    for key in ("steps", "start", "f_star", "order", "share"):
        patch[key] = store[key]
    for key in changed:
        patch["racers"][key] = store["racers"][key]
    old = previous if isinstance(previous, dict) else {}
    for key in old:
        if key != "surface" and key not in store["racers"]:
            del patch["racers"][key]
    return patch


def rate_value(value: Any) -> float | None:
    """A rate box's value (a number, or text as typed) as the validator reads it, or None."""
    try:
        return LR.validate(typed(value), "lr")
    except ConfigError:
        return None


def register(app: Dash, service: RaceService) -> None:
    @app.callback(
        output={
            "store": Output(ids.RACE_STORE, "data"),
            "keys": Output(ids.RACE_KEYS, "data"),
            "surface": Output(ids.SURFACE_STORE, "data"),
            "racer_errors": Output(_ids(ids.RACER_ERROR), "children"),
            "surface_error": Output(ids.SURFACE_ERROR, "children"),
            "settings_error": Output(ids.SETTINGS_ERROR, "children"),
            "equations": Output(ids.EQUATIONS_STORE, "data"),
            "preparing": Output(ids.RACE_PREPARING, "children"),
            "poll": Output(ids.PREPARING_POLL, "disabled"),
        },
        # The order is the request's: forged requests in the tests list inputs in this order.
        inputs={
            "surface": Input(ids.SURFACE_SELECT, "value"),
            "surface_params": Input({"type": ids.SURFACE_PARAM, "name": ALL}, "value"),
            "steps": Input(ids.STEPS_INPUT, "value"),
            "noise_std": Input(ids.NOISE_STD, "value"),
            "noise_seed": Input(ids.NOISE_SEED, "value"),
            "start": Input(ids.START_STORE, "data"),
            "optimizers": Input(_ids(ids.RACER_OPTIMIZER), "value"),
            "lrs": Input(_ids(ids.RACER_LR), "value"),
            "params": Input(_ids(ids.RACER_PARAM, name=ALL, owner=ALL), "value"),
            "schedules": Input(_ids(ids.RACER_SCHEDULE), "value"),
            "schedule_params": Input(_ids(ids.RACER_SCHED_PARAM, name=ALL, owner=ALL), "value"),
            "clips": Input(_ids(ids.RACER_CLIP), "value"),
            "labels": Input(_ids(ids.RACER_LABEL), "value"),
            "sams": Input(_ids(ids.RACER_SAM), "value"),
            "sam_adaptives": Input(_ids(ids.RACER_SAM_ADAPTIVE), "value"),
            "work_budget": Input(ids.WORK_BUDGET, "value"),
            "poll": Input(ids.PREPARING_POLL, "n_intervals"),
        },
        state={"known_keys": State(ids.RACE_KEYS, "data")},
        prevent_initial_call=True,  # the opening race arrives with the layout
    )
    def update_race(known_keys, poll=None, **values):
        # Pattern-matching inputs come with their ids ({id, value}): the racer index and the
        # parameter name are in the id, and the form checks them like any other input.
        given = ctx.args_grouping
        triggered = ctx.triggered_prop_ids  # rebuilt by Dash on every read: read once
        inputs = PageInputs(
            **{
                name: values[name]
                for name in ("surface", "steps", "noise_std", "noise_seed", "work_budget")
            },
            start=values["start"],
            **{name: _entries(given, name) for name in PATTERN_INPUTS},
            stale_surface=f"{ids.SURFACE_SELECT}.value" in triggered,
            stale_params=_stale(triggered, ids.RACER_OPTIMIZER),
            stale_schedule_params=_stale(triggered, ids.RACER_SCHEDULE),
        )
        update = race_update(inputs, known_keys, service)
        error_ids = [o["id"] for o in ctx.outputs_grouping["racer_errors"]]
        return {
            "store": _store_output(update, known_keys),
            "keys": update.keys if update.keys is not None else no_update,
            "surface": update.surface if update.surface is not None else no_update,
            "racer_errors": [update.racer_errors.get(i.get("index"), "") for i in error_ids],
            "surface_error": update.surface_error,
            "settings_error": update.settings_error,
            "equations": {str(i): text for i, text in update.equations.items()} or no_update,
            "preparing": update.preparing,
            "poll": not update.preparing,
        }

    register_analysis(app, service)

    def regenerate(control: str, container: str, registry: dict, build) -> None:
        """When a racer's optimizer or schedule changes, its parameter controls follow."""

        @app.callback(
            Output({"type": container, "index": MATCH}, "children"),
            Input({"type": control, "index": MATCH}, "value"),
            prevent_initial_call=True,
        )
        def controls(name):
            if known(registry, name) is None:
                return no_update  # the race callback reports the unknown name
            return build(ctx.triggered_id["index"], name, {})

    regenerate(ids.RACER_OPTIMIZER, ids.RACER_PARAMS, OPTIMIZERS, optimizer_params)
    regenerate(ids.RACER_SCHEDULE, ids.RACER_SCHED_PARAMS, SCHEDULES, schedule_params)

    @app.callback(
        Output({"type": ids.RACER_LR, "index": MATCH}, "value", allow_duplicate=True),
        Output({"type": ids.RACER_DEFAULT_LR, "index": MATCH}, "data"),
        Input({"type": ids.RACER_OPTIMIZER, "index": MATCH}, "value"),
        State({"type": ids.RACER_LR, "index": MATCH}, "value"),
        State({"type": ids.RACER_DEFAULT_LR, "index": MATCH}, "data"),
        prevent_initial_call=True,
    )
    def rate_follows_optimizer(name, lr, was):
        """A rate still at the old optimizer's default becomes the new one's (L-BFGS at Adam's
        1e-3 crawls); a rate the person chose stays. The race callback waits for this one."""
        spec = known(OPTIMIZERS, name)
        if spec is None:
            return no_update, no_update
        rate = rate_value(lr)
        untouched = rate is not None and rate == rate_value(was)
        default = spec.card.default_lr
        return (default if untouched else no_update), default

    @app.callback(
        Output(ids.SURFACE_PARAMS, "children"),
        Input(ids.SURFACE_SELECT, "value"),
        prevent_initial_call=True,
    )
    def surface_controls(name):
        if known(SURFACES, name) is None:
            return no_update
        return surface_params(name, {})

    @app.callback(
        output={
            "cards": Output(ids.RACERS, "children"),
            "next": Output(ids.NEXT_INDEX, "data"),
            "add_text": Output(ids.ADD_RACER, "children"),
            "add_off": Output(ids.ADD_RACER, "disabled"),
        },
        inputs={
            "add": Input(ids.ADD_RACER, "n_clicks"),
            "removes": Input(_ids(ids.RACER_REMOVE), "n_clicks"),
        },
        state={
            "optimizers": State(_ids(ids.RACER_OPTIMIZER), "value"),
            "next_index": State(ids.NEXT_INDEX, "data"),
        },
        prevent_initial_call=True,
    )
    def add_or_remove(add, removes, optimizers, next_index):
        unchanged = dict.fromkeys(("cards", "next", "add_text", "add_off"), no_update)
        present = [o["id"].get("index") for o in ctx.args_grouping["optimizers"]]
        trigger = ctx.triggered_id
        patch = Patch()

        def changed(count: int, next_index: Any) -> dict[str, Any]:
            """The cards' patch, and the Add button as ``count`` cards leave it."""
            button = add_racer_state(count)
            return {"cards": patch, "next": next_index, "add_text": button["children"]} | {
                "add_off": button["disabled"]
            }

        if trigger == ids.ADD_RACER:
            if len(present) >= MAX_PAGE_RACERS or not isinstance(next_index, int):
                return unchanged
            used = set(optimizers)
            name = next((n for n in OPTIMIZERS if n not in used), "adam")
            racer = {"optimizer": name, "lr": OPTIMIZERS[name].card.default_lr}
            patch.append(racer_card(next_index, validate_racer(racer, "racer").to_json()))
            return changed(len(present) + 1, next_index + 1)
        if isinstance(trigger, dict) and trigger.get("type") == ids.RACER_REMOVE:
            clicked = [r for r in ctx.args_grouping["removes"] if r["id"] == trigger]
            if not clicked or not clicked[0].get("value") or len(present) <= 1:
                return unchanged
            if trigger.get("index") not in present:
                return unchanged
            del patch[present.index(trigger["index"])]
            return changed(len(present) - 1, no_update)
        return unchanged

    # Playback and drawing happen in the browser (assets/playback.js): no request while playing.
    app.clientside_callback(
        ClientsideFunction("race", "syncRate"),
        Output({"type": ids.RACER_LR, "index": MATCH}, "value"),
        Output({"type": ids.RACER_LR_SLIDER, "index": MATCH}, "value"),
        Input({"type": ids.RACER_LR, "index": MATCH}, "value"),
        Input({"type": ids.RACER_LR_SLIDER, "index": MATCH}, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "draw"),
        Output(ids.RACE_GRAPH, "figure"),
        Output(ids.STEP_SLIDER, "max"),
        Input(ids.RACE_STORE, "data"),
        Input(ids.SURFACE_STORE, "data"),
        Input(_ids(ids.RACER_VISIBLE), "value"),
    )
    # The charts and each changed update rule are drawn from draw/rules a frame apiece.
    app.clientside_callback(
        ClientsideFunction("race", "rules"),
        Input(ids.EQUATIONS_STORE, "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "chooseLower"),
        Output(ids.LOWER_CHART, "className"),
        Input(ids.LOWER_CHART, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "chooseAxis"),
        Output(ids.LOSS_AXIS, "className"),
        Input(ids.LOSS_AXIS, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "pickStart"),
        Output(ids.START_STORE, "data"),
        Input(ids.RACE_GRAPH, "clickData"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "togglePlay"),
        Output(ids.PLAY_BUTTON, "children"),
        Input(ids.PLAY_BUTTON, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "stepBy"),
        Output(ids.STEP_SLIDER, "value"),
        Input(ids.STEP_BACK, "n_clicks"),
        Input(ids.STEP_FORWARD, "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "seek"),
        Output(ids.STEP_LABEL, "children"),
        Input(ids.STEP_SLIDER, "value"),
    )
    app.clientside_callback(
        ClientsideFunction("race", "setOptions"),
        Output(ids.SPEED_SELECT, "className"),
        Input(ids.SPEED_SELECT, "value"),
        Input(ids.LOOP_TOGGLE, "value"),
    )


def register_analysis(app: Dash, service: RaceService) -> None:
    """The fair-race views: computed on the server only while shown, drawn in the browser.

    They read ``race-share`` ({share, order}), derived in the browser from the race store
    without a round trip: the race store of a heavy race is megabytes, and a request carrying
    it was refused (413), so the views never send a race or a result back."""

    app.clientside_callback(
        ClientsideFunction("analysis", "share"),
        Output(ids.RACE_SHARE, "data"),
        Input(ids.RACE_STORE, "data"),
        Input(ids.ANALYSIS_SELECT, "value"),
        State(ids.RACE_SHARE, "data"),
    )

    @app.callback(
        Output(ids.SWEEP_STORE, "data"),
        Output(ids.SWEEP_STATUS, "children"),
        Input(ids.ANALYSIS_SELECT, "value"),
        Input(ids.RACE_SHARE, "data"),
        Input(ids.TUNE_CRITERION, "value"),
        prevent_initial_call=True,
    )
    def update_sweep(view, share, criterion):
        if view != "sweep" or share is None:
            return no_update, no_update
        update = sweep_view(share, criterion, service)
        return (no_update if update.data is None else update.data), update.message

    @app.callback(
        output={
            "rates": Output(_ids(ids.RACER_LR), "value", allow_duplicate=True),
            # A tuned rate, like a default one, belongs to its optimizer: switching the
            # card's optimizer takes the new one's default (rate_follows_optimizer).
            "owned": Output(_ids(ids.RACER_DEFAULT_LR), "data", allow_duplicate=True),
            "note": Output(ids.TUNE_STORE, "data"),
            "status": Output(ids.SWEEP_STATUS, "children", allow_duplicate=True),
        },
        inputs={"clicks": Input(ids.TUNE_BUTTON, "n_clicks")},
        state={
            "share": State(ids.RACE_SHARE, "data"),
            "criterion": State(ids.TUNE_CRITERION, "value"),
        },
        prevent_initial_call=True,
    )
    def auto_tune(clicks, share, criterion):
        boxes = [o["id"] for o in ctx.outputs_grouping["rates"]]
        unchanged = [no_update] * len(boxes)
        kept = [no_update] * len(ctx.outputs_grouping["owned"])
        nothing = {"rates": unchanged, "owned": kept, "note": no_update}
        if not clicks:
            return {**nothing, "status": no_update}
        update = tune(share, criterion, service)
        if update.data is None:
            return {**nothing, "status": update.message}
        rates = update.extra["rates"]
        owners = [o["id"] for o in ctx.outputs_grouping["owned"]]
        return {
            "rates": [rates.get(i.get("index"), no_update) for i in boxes],
            "owned": [rates.get(i.get("index"), no_update) for i in owners],
            "note": update.data,
            "status": update.extra["status"],
        }

    @app.callback(
        Output(ids.TUNE_STORE, "data", allow_duplicate=True),
        Input(ids.TUNE_CLAIM, "data"),
        State(ids.RACE_SHARE, "data"),
        prevent_initial_call=True,
    )
    def confirm_claim(claim, share):
        # A link to a tuned race says so (tuned=criterion); the note shows once it is checked.
        update = confirm_tuned(share, claim, service)
        return no_update if update.data is None else update.data

    @app.callback(
        Output(ids.STARTS_STORE, "data"),
        Output(ids.STARTS_RACER, "options"),
        Output(ids.STARTS_RACER, "value"),
        Output(ids.STARTS_STATUS, "children"),
        Input(ids.ANALYSIS_SELECT, "value"),
        Input(ids.RACE_SHARE, "data"),
        Input(ids.STARTS_RACER, "value"),
        Input(ids.STARTS_LAYOUT, "value"),
        Input(ids.STARTS_COUNT, "value"),
        prevent_initial_call=True,
    )
    def update_starts(view, share, racer, layout, count):
        if view != "starts" or share is None:
            return no_update, no_update, no_update, no_update
        update = starts_view(share, racer, layout, count, service)
        if update.data is None:
            return no_update, no_update, no_update, update.message
        menu = update.extra
        if not menu:  # refused: the view says why, the menu stays
            return update.data, no_update, no_update, update.message
        chosen = menu["value"] if menu["value"] != racer else no_update
        return update.data, menu["options"], chosen, ""

    app.clientside_callback(
        ClientsideFunction("analysis", "panels"),
        Output(ids.SWEEP_PANEL, "hidden"),
        Output(ids.STARTS_PANEL, "hidden"),
        Input(ids.ANALYSIS_SELECT, "value"),
    )
    # Each view's chart is drawn in a frame of its own (assets/race-analysis.js).
    app.clientside_callback(
        ClientsideFunction("analysis", "drawSweep"),
        Input(ids.SWEEP_STORE, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("analysis", "drawStarts"),
        Input(ids.STARTS_STORE, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("analysis", "tuned"),
        Output(ids.LEADERBOARD, "className"),
        Input(ids.TUNE_STORE, "data"),
        prevent_initial_call=True,
    )
