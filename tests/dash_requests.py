"""Building ``/_dash-update-component`` requests by hand, as a browser (or a forger) would.

The callback's declared outputs come from the app's own ``/_dash-dependencies``, so a change
of wiring shows up here instead of silently testing an old shape.
"""

from __future__ import annotations

import json
from typing import Any

from callbacks.form import OPENING_RACE
from optimizers.registry import OPTIMIZERS

UPDATE = "/_dash-update-component"


def dependency(client, output_part: str, input_id: str | None = None) -> dict[str, Any]:
    """The callback declaring ``output_part`` (and, for an output two callbacks share, reading
    the input ``input_id``)."""
    for dep in client.get("/_dash-dependencies").get_json():
        if output_part in dep["output"] and (
            input_id is None or any(i["id"] == input_id for i in dep["inputs"])
        ):
            return dep
    raise AssertionError(f"no callback outputs {output_part}")


def racer_controls(index: int, racer: dict[str, Any]) -> dict[str, Any]:
    """The control values a racer card holds for ``racer`` (defaults filled as the page does)."""
    spec = OPTIMIZERS[racer["optimizer"]]
    params = {}
    for p in spec.params:
        value = racer.get("params", {}).get(p.name, p.default)
        if p.kind == "pair":
            params[f"{p.name}:0"], params[f"{p.name}:1"] = value
        elif p.kind == "bool":
            params[p.name] = ["on"] if value else []
        else:
            params[p.name] = value
    return {
        "index": index,
        "optimizer": racer["optimizer"],
        "lr": racer["lr"],
        "params": params,
        "schedule": racer.get("schedule", "constant"),
        "schedule_params": racer.get("schedule_params", {}),
        "clip": racer.get("clip"),
        "label": racer.get("label"),
        "sam": racer.get("sam"),
        "sam_adaptive": ["on"] if racer.get("sam_adaptive") else [],
    }


def opening_controls() -> list[dict[str, Any]]:
    return [racer_controls(i, r) for i, r in enumerate(OPENING_RACE["racers"])]


def _one(id_: Any, prop: str, value: Any) -> dict[str, Any]:
    return {"id": id_, "property": prop, "value": value}


def race_body(
    client,
    racers: list[dict[str, Any]],
    *,
    surface: Any = "rosenbrock",
    surface_params: dict[str, Any] | None = None,
    steps: Any = 300,
    noise_std: Any = 0.0,
    noise_seed: Any = 0,
    start: Any = None,
    work_budget: Any = None,
    keys: Any = None,
    changed: list[str] | None = None,
) -> dict[str, Any]:
    dep = dependency(client, "race-store.data")

    def each(kind: str, field: str) -> list[dict[str, Any]]:
        return [_one({"type": kind, "index": r["index"]}, "value", r[field]) for r in racers]

    def named(kind: str, field: str) -> list[dict[str, Any]]:
        return [
            _one({"type": kind, "index": r["index"], "name": name}, "value", value)
            for r in racers
            for name, value in r[field].items()
        ]

    outputs = [
        {"id": "race-store", "property": "data"},
        {"id": "race-keys", "property": "data"},
        {"id": "surface-store", "property": "data"},
        [
            {"id": {"type": "racer-error", "index": r["index"]}, "property": "children"}
            for r in racers
        ],
        {"id": "surface-error", "property": "children"},
        {"id": "settings-error", "property": "children"},
        {"id": "equations-store", "property": "data"},
    ]
    inputs = [
        _one("surface-select", "value", surface),
        [
            _one({"type": "surface-param", "name": k}, "value", v)
            for k, v in (surface_params or {}).items()
        ],
        _one("steps-input", "value", steps),
        _one("noise-std", "value", noise_std),
        _one("noise-seed", "value", noise_seed),
        _one("start-store", "data", start),
        each("racer-optimizer", "optimizer"),
        each("racer-lr", "lr"),
        named("racer-param", "params"),
        each("racer-schedule", "schedule"),
        named("racer-sched-param", "schedule_params"),
        each("racer-clip", "clip"),
        each("racer-label", "label"),
        each("racer-sam", "sam"),
        each("racer-sam-adaptive", "sam_adaptive"),
        _one("work-budget", "value", work_budget),
    ]
    return {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": changed or [],
        "state": [_one("race-keys", "data", keys or {})],
    }


def post(client, body: dict[str, Any]):
    return client.post(UPDATE, data=json.dumps(body), content_type="application/json")


def error_of(response: dict[str, Any], index: int) -> str:
    key = json.dumps({"index": index, "type": "racer-error"}, separators=(",", ":"))
    return response[key]["children"]


def page_store(response: dict[str, Any]) -> dict[str, Any]:
    """What the fair-race views read of the page's race store (from a race update's answer)."""
    data = response["response"]["race-store"]["data"]
    return {"share": data["share"], "order": data["order"]}


def analysis_body(client, output: str, store: dict[str, Any], **values: Any) -> dict[str, Any]:
    """A request of a fair-race view's callback (``output``: sweep-store.data, tune-store.data,
    starts-store.data, or tune-claim.data: a link's tuned claim checked); ``values`` override
    the view's control values. ``store`` is what the page sends: its race-share store
    ({share, order}), never the race itself."""
    v = {"criterion": "final_loss", "racer": 0, "layout": "grid", "count": 64} | values
    lr_outputs = [
        {"id": {"type": "racer-lr", "index": int(k)}, "property": "value"} for k in store["order"]
    ]
    share = _one("race-share", "data", store)
    shapes = {
        "sweep-store.data": (
            [
                {"id": "sweep-store", "property": "data"},
                {"id": "sweep-status", "property": "children"},
            ],
            [
                _one("analysis-select", "value", "sweep"),
                share,
                _one("tune-criterion", "value", v["criterion"]),
            ],
            [],
        ),
        "tune-store.data": (
            [
                lr_outputs,
                {"id": "tune-store", "property": "data"},
                {"id": "sweep-status", "property": "children"},
            ],
            [_one("tune-button", "n_clicks", 1)],
            [share, _one("tune-criterion", "value", v["criterion"])],
        ),
        "starts-store.data": (
            [
                {"id": "starts-store", "property": "data"},
                {"id": "starts-racer", "property": "options"},
                {"id": "starts-racer", "property": "value"},
                {"id": "starts-status", "property": "children"},
            ],
            [
                _one("analysis-select", "value", "starts"),
                share,
                _one("starts-racer", "value", v["racer"]),
                _one("starts-layout", "value", v["layout"]),
                _one("starts-count", "value", v["count"]),
            ],
            [],
        ),
    }
    if output == "tune-claim.data":
        claim = _one("tune-claim", "data", {"criterion": v["criterion"]})
        return {
            "output": dependency(client, "tune-store.data", "tune-claim")["output"],
            "outputs": {"id": "tune-store", "property": "data"},
            "inputs": [claim],
            "changedPropIds": ["tune-claim.data"],
            "state": [share],
        }
    outputs, inputs, state = shapes[output]
    return {
        "output": dependency(client, output)["output"],
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": [],
        "state": state,
    }
