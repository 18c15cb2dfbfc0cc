"""Dash callbacks: each one adapts requests to a plain function and shapes its answer.

Every server callback is a public endpoint (``/_dash-update-component``): values, ids and
names in a request may be forged, so they only ever reach the validator, and a failure turns
into a message beside the control, never a traceback.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, Patch, State, ctx, no_update

from callbacks.analysis import confirm_tuned, starts_view, sweep_view, tune
from callbacks.form import MAX_PAGE_RACERS, known
from callbacks.race import PageInputs, RaceUpdate, race_update
from callbacks.service import RaceService
from layouts.page import surface_params
from layouts.racer import optimizer_params, racer_card, schedule_params
from optimizers.registry import OPTIMIZERS
from optimizers.schedules import SCHEDULES
from optimizers.validate import validate_racer
from surfaces import SURFACES


def _ids(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "index": ALL, **extra}


def _triggered() -> list[Any]:
    return [t.get("prop_id", "") for t in ctx.triggered or [] if isinstance(t, dict)]


def _stale(triggered: list[str], kind: str) -> set[int]:
    """Racer indices whose ``kind`` control fired: their dependent controls are being rebuilt."""
    out = set()
    for prop in triggered:
        ident = ctx.triggered_prop_ids.get(prop)
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


def register(app: Dash, service: RaceService) -> None:
    @app.callback(
        Output("race-store", "data"),
        Output("race-keys", "data"),
        Output("surface-store", "data"),
        Output(_ids("racer-error"), "children"),
        Output("surface-error", "children"),
        Output("settings-error", "children"),
        Output("equations-store", "data"),
        Input("surface-select", "value"),
        Input({"type": "surface-param", "name": ALL}, "value"),
        Input("steps-input", "value"),
        Input("noise-std", "value"),
        Input("noise-seed", "value"),
        Input("start-store", "data"),
        Input(_ids("racer-optimizer"), "value"),
        Input(_ids("racer-lr"), "value"),
        Input(_ids("racer-param", name=ALL), "value"),
        Input(_ids("racer-schedule"), "value"),
        Input(_ids("racer-sched-param", name=ALL), "value"),
        Input(_ids("racer-clip"), "value"),
        Input(_ids("racer-label"), "value"),
        State("race-keys", "data"),
        prevent_initial_call=True,  # the opening race arrives with the layout
    )
    def update_race(surface, _sp, steps, noise_std, noise_seed, start, *rest):
        known_keys = rest[-1]
        listed = ctx.inputs_list
        triggered = _triggered()
        inputs = PageInputs(
            surface=surface,
            surface_params=listed[1],
            steps=steps,
            noise_std=noise_std,
            noise_seed=noise_seed,
            start=start,
            optimizers=listed[6],
            lrs=listed[7],
            params=listed[8],
            schedules=listed[9],
            schedule_params=listed[10],
            clips=listed[11],
            labels=listed[12],
            stale_surface="surface-select.value" in triggered,
            stale_params=_stale(triggered, "racer-optimizer"),
            stale_schedule_params=_stale(triggered, "racer-schedule"),
        )
        update = race_update(inputs, known_keys, service)
        error_ids = [o["id"] for o in ctx.outputs_list[3]]
        return (
            _store_output(update, known_keys),
            update.keys if update.keys is not None else no_update,
            update.surface if update.surface is not None else no_update,
            [update.racer_errors.get(i.get("index"), "") for i in error_ids],
            update.surface_error,
            update.settings_error,
            {str(i): text for i, text in update.equations.items()} or no_update,
        )

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

    regenerate("racer-optimizer", "racer-params", OPTIMIZERS, optimizer_params)
    regenerate("racer-schedule", "racer-sched-params", SCHEDULES, schedule_params)

    @app.callback(
        Output("surface-params", "children"),
        Input("surface-select", "value"),
        prevent_initial_call=True,
    )
    def surface_controls(name):
        if known(SURFACES, name) is None:
            return no_update
        return surface_params(name, {})

    @app.callback(
        Output("racers", "children"),
        Output("next-index", "data"),
        Input("add-racer", "n_clicks"),
        Input(_ids("racer-remove"), "n_clicks"),
        State(_ids("racer-optimizer"), "value"),
        State("next-index", "data"),
        prevent_initial_call=True,
    )
    def add_or_remove(_add, removes, optimizers, next_index):
        present = [o["id"].get("index") for o in ctx.states_list[0]]
        trigger = ctx.triggered_id
        patch = Patch()
        if trigger == "add-racer":
            if len(present) >= MAX_PAGE_RACERS or not isinstance(next_index, int):
                return no_update, no_update
            used = set(optimizers)
            name = next((n for n in OPTIMIZERS if n not in used), "adam")
            racer = {"optimizer": name, "lr": OPTIMIZERS[name].default_lr}
            patch.append(racer_card(next_index, validate_racer(racer, "racer").to_json()))
            return patch, next_index + 1
        if isinstance(trigger, dict) and trigger.get("type") == "racer-remove":
            clicked = [r for r in ctx.inputs_list[1] if r["id"] == trigger]
            if not clicked or not clicked[0].get("value") or len(present) <= 1:
                return no_update, no_update
            if trigger.get("index") not in present:
                return no_update, no_update
            del patch[present.index(trigger["index"])]
            return patch, no_update
        return no_update, no_update

    # Playback and drawing happen in the browser (assets/playback.js): no request while playing.
    app.clientside_callback(
        ClientsideFunction("race", "syncRate"),
        Output({"type": "racer-lr", "index": MATCH}, "value"),
        Output({"type": "racer-lr-slider", "index": MATCH}, "value"),
        Input({"type": "racer-lr", "index": MATCH}, "value"),
        Input({"type": "racer-lr-slider", "index": MATCH}, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "draw"),
        Output("race-graph", "figure"),
        Output("step-slider", "max"),
        Input("race-store", "data"),
        Input("surface-store", "data"),
        Input(_ids("racer-visible"), "value"),
    )
    # The charts and each changed update rule are drawn from draw/rules a frame apiece.
    app.clientside_callback(
        ClientsideFunction("race", "rules"),
        Input("equations-store", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "chooseLower"),
        Output("lower-chart", "className"),
        Input("lower-chart", "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "pickStart"),
        Output("start-store", "data"),
        Input("race-graph", "clickData"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "togglePlay"),
        Output("play-button", "children"),
        Input("play-button", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "stepBy"),
        Output("step-slider", "value"),
        Input("step-back", "n_clicks"),
        Input("step-forward", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("race", "seek"),
        Output("step-label", "children"),
        Input("step-slider", "value"),
    )
    app.clientside_callback(
        ClientsideFunction("race", "setOptions"),
        Output("speed-select", "className"),
        Input("speed-select", "value"),
        Input("loop-toggle", "value"),
    )


def register_analysis(app: Dash, service: RaceService) -> None:
    """The fair-race views: computed on the server only while shown, drawn in the browser.

    They read ``race-share`` ({share, order}), derived in the browser from the race store
    without a round trip: the race store of a heavy race is megabytes, and a request carrying
    it was refused (413), so the views never send a race or a result back."""

    app.clientside_callback(
        ClientsideFunction("analysis", "share"),
        Output("race-share", "data"),
        Input("race-store", "data"),
        State("race-share", "data"),
    )

    @app.callback(
        Output("sweep-store", "data"),
        Output("sweep-status", "children"),
        Input("analysis-select", "value"),
        Input("race-share", "data"),
        Input("tune-criterion", "value"),
        prevent_initial_call=True,
    )
    def update_sweep(view, share, criterion):
        if view != "sweep" or share is None:
            return no_update, no_update
        update = sweep_view(share, criterion, service)
        return (no_update if update.data is None else update.data), update.message

    @app.callback(
        Output(_ids("racer-lr"), "value", allow_duplicate=True),
        Output("tune-store", "data"),
        Output("sweep-status", "children", allow_duplicate=True),
        Input("tune-button", "n_clicks"),
        State("race-share", "data"),
        State("tune-criterion", "value"),
        prevent_initial_call=True,
    )
    def auto_tune(clicks, share, criterion):
        ids = [o["id"] for o in ctx.outputs_list[0]]
        unchanged = [no_update] * len(ids)
        if not clicks:
            return unchanged, no_update, no_update
        update = tune(share, criterion, service)
        if update.data is None:
            return unchanged, no_update, update.message
        rates = update.extra["rates"]
        values = [rates.get(i.get("index"), no_update) for i in ids]
        return values, update.data, "Tuned: every racer races at its own best rate."

    @app.callback(
        Output("tune-store", "data", allow_duplicate=True),
        Input("tune-claim", "data"),
        State("race-share", "data"),
        prevent_initial_call=True,
    )
    def confirm_claim(claim, share):
        # A link to a tuned race says so (tuned=criterion); the note shows once it is checked.
        update = confirm_tuned(share, claim, service)
        return no_update if update.data is None else update.data

    @app.callback(
        Output("starts-store", "data"),
        Output("starts-racer", "options"),
        Output("starts-racer", "value"),
        Output("starts-status", "children"),
        Input("analysis-select", "value"),
        Input("race-share", "data"),
        Input("starts-racer", "value"),
        Input("starts-layout", "value"),
        Input("starts-count", "value"),
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
        Output("sweep-panel", "hidden"),
        Output("starts-panel", "hidden"),
        Input("analysis-select", "value"),
    )
    # Each view's chart is drawn in a frame of its own (assets/race-analysis.js).
    app.clientside_callback(
        ClientsideFunction("analysis", "drawSweep"),
        Input("sweep-store", "data"),
    )
    app.clientside_callback(
        ClientsideFunction("analysis", "drawStarts"),
        Input("starts-store", "data"),
    )
    app.clientside_callback(
        ClientsideFunction("analysis", "tuned"),
        Output("leaderboard", "className"),
        Input("tune-store", "data"),
        prevent_initial_call=True,
    )
