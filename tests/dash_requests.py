"""Building ``/_dash-update-component`` requests by hand, as a browser (or a forger) would.

The callback's declared outputs come from the app's own ``/_dash-dependencies``, so a change
of wiring shows up here instead of silently testing an old shape.
"""

from __future__ import annotations

import itertools
import json
import weakref
from typing import Any

from callbacks.form import OPENING_RACE
from optimizers.registry import OPTIMIZERS

UPDATE = "/_dash-update-component"
# Each app's declared callbacks, read once. Every request is charged its CPU (web/metering.py),
# so in a test app with a tiny work budget a helper's own reads would put the test client's
# address in debt, and whether they did depended on how fast the machine was: each app's
# declarations are read once, from an address no test uses (198.18.0.0/15, for benchmarks).
_DECLARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_READER_ADDRESSES = (f"198.18.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


def declared_callbacks(client) -> list[dict[str, Any]]:
    """The app's ``/_dash-dependencies``, read once per app from an address of its own."""
    app = client.application
    if app not in _DECLARED:
        answer = client.get(
            "/_dash-dependencies", environ_base={"REMOTE_ADDR": next(_READER_ADDRESSES)}
        )
        assert answer.status_code == 200, (answer.status_code, answer.get_data(as_text=True))
        _DECLARED[app] = answer.get_json()
    return _DECLARED[app]


def dependency(client, output_part: str, input_id: str | None = None) -> dict[str, Any]:
    """The callback declaring ``output_part`` (and, for an output two callbacks share, reading
    the input ``input_id``)."""
    for dep in declared_callbacks(client):
        if output_part in dep["output"] and (
            input_id is None or any(i["id"] == input_id for i in dep["inputs"])
        ):
            return dep
    raise AssertionError(f"no callback outputs {output_part}")


def racer_controls(index: int, racer: dict[str, Any]) -> dict[str, Any]:
    """The control values a racer card holds for ``racer`` (defaults filled as the page does).

    Its parameter controls' ids name the optimizer and schedule they were built for
    (``params_owner``, ``schedule_params_owner``): a test that changes ``optimizer`` afterwards
    sends what the page sends before Dash replaces the card's controls."""
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
        "params_owner": racer["optimizer"],
        "schedule_params_owner": racer.get("schedule", "constant"),
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
            _one(
                {"type": kind, "index": r["index"], "name": name, "owner": r[f"{field}_owner"]},
                "value",
                value,
            )
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
        {"id": "race-preparing", "property": "children"},
        {"id": "preparing-poll", "property": "disabled"},
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
        _one("preparing-poll", "n_intervals", None),
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
    owned_outputs = [
        {"id": {"type": "racer-default-lr", "index": int(k)}, "property": "data"}
        for k in store["order"]
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
                owned_outputs,
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


# Requests built from the app's own registry (``app.callback_map``), for any callback by its
# output's name: what the page sends for it, and the forged flood of issue 24.


def callback_map(app_or_callback_map: Any) -> dict[str, Any]:
    """The registry of a Dash app (or the registry itself)."""
    return getattr(app_or_callback_map, "callback_map", app_or_callback_map)


def callback_key(app_or_callback_map: Any, output: str) -> str:
    """The registry key of the callback whose outputs include ``output`` ("race-store.data"),
    or ``output`` itself when it is a key; the first registered when two share it."""
    registry = callback_map(app_or_callback_map)
    if output in registry:
        return output
    for key in registry:
        if output in key:
            return key
    raise AssertionError(f"no callback outputs {output}")


def prop_id(id_: Any, prop: str) -> str:
    """A changed prop's name as the renderer writes it: a dict id with its keys sorted."""
    if isinstance(id_, dict):
        text = ",".join(
            f"{json.dumps(k)}:{json.dumps(id_[k], separators=(',', ':'), ensure_ascii=False)}"
            for k in sorted(id_)
        )
        id_ = "{" + text + "}"
    return f"{id_}.{prop}"


def _declared(key: str, entry: dict[str, Any]) -> tuple[list, list, list]:
    """(inputs, state, outputs) as [(id, property, wildcard kind or None)], ids parsed."""

    def parse(spec: dict[str, Any]) -> tuple[Any, str, str | None]:
        raw = spec["id"]
        ident = json.loads(raw) if raw.startswith("{") else raw
        wild = None
        if isinstance(ident, dict):
            kinds = {v[0] for v in ident.values() if isinstance(v, list)}
            wild = "MATCH" if kinds == {"MATCH"} else ("ALL" if kinds else None)
        return ident, spec["property"], wild

    output = entry["output"]
    outputs = output if isinstance(output, (list, tuple)) else [output]
    return (
        [parse(s) for s in entry["inputs"]],
        [parse(s) for s in entry["state"]],
        [] if entry.get("no_output") else [parse(o.to_dict()) for o in outputs],
    )


def _filled(ident: Any, value: Any) -> Any:
    """A pattern's id with each wildcard key given ``value``."""
    if not isinstance(ident, dict):
        return ident
    return {k: (value if isinstance(v, list) else v) for k, v in ident.items()}


def forged_callback_body(
    app_or_callback_map: Any, changed: int, output: str = "race-store.data", *, carried=False
) -> bytes:
    """The forged request of issue 24 for the callback ``output`` names: shaped as declared
    (one entry per pattern list, as a page with one racer), with ``changedPropIds`` listing
    ``changed`` props. They are ``changed`` distinct components of its first pattern-matching
    input when it has one (2,000 of them: ~100 KB), else its inputs named again and again.
    ``carried``: that input's list also carries an entry for each (a long wildcard list)."""
    key = callback_key(app_or_callback_map, output)
    inputs, state, outputs = _declared(key, callback_map(app_or_callback_map)[key])
    pattern = next((d for d in inputs if d[2]), None)

    def entries(declared: list, long: tuple | None = None) -> list:
        out = []
        for ident, prop, wild in declared:
            one = {"id": _filled(ident, 0), "property": prop}
            if wild != "ALL":
                out.append(one)
            elif (ident, prop, wild) == long:
                out.append([{"id": _filled(ident, i), "property": prop} for i in range(changed)])
            else:
                out.append([one])
        return out

    if pattern is not None:
        names = [prop_id(_filled(pattern[0], i), pattern[1]) for i in range(changed)]
    else:
        cycle = [prop_id(ident, prop) for ident, prop, _ in inputs]
        names = [cycle[i % len(cycle)] for i in range(changed)]
    shaped_outputs = entries(outputs)
    body = {
        "output": key,
        "outputs": shaped_outputs if key.startswith("..") or not outputs else shaped_outputs[0],
        "inputs": entries(inputs, pattern if carried else None),
        "changedPropIds": names,
        "state": entries(state),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def layout_components(layout: Any) -> list[tuple[Any, dict[str, Any]]]:
    """(id, props) of every component with an id in a ``/_dash-layout`` answer, in order."""
    found = []
    stack = [layout]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            props = node.get("props")
            if "type" in node and isinstance(props, dict):
                if "id" in props:
                    found.append((props["id"], props))
                stack.extend(reversed(list(props.values())))
    return found


def page_body(layout: Any, app_or_callback_map: Any, output: str) -> dict[str, Any]:
    """The request the page would send for the callback ``output`` names, read from the page's
    layout as Dash's renderer reads it: each input's and state's value from its component, a
    pattern's list from every component matching it, MATCH fixed to the first component that
    matches the first MATCH input; the first input's entry is the one that changed."""
    key = callback_key(app_or_callback_map, output)
    inputs, state, outputs = _declared(key, callback_map(app_or_callback_map)[key])
    components = layout_components(layout)

    def matches(pattern: Any, ident: Any, fixed: dict[str, Any]) -> bool:
        """``ident`` fits ``pattern``; a MATCH key takes its value in ``fixed`` once fixed."""
        if not isinstance(pattern, dict):
            return ident == pattern
        if not isinstance(ident, dict) or ident.keys() != pattern.keys():
            return False
        return all(
            ident[k] == fixed.get(k, ident[k]) if isinstance(v, list) else ident[k] == v
            for k, v in pattern.items()
        )

    first_match = next((d for d in [*inputs, *state, *outputs] if d[2] == "MATCH"), None)
    fixed: dict[str, Any] = {}
    if first_match is not None:
        found = next(i for i, _ in components if matches(first_match[0], i, {}))
        fixed = {k: found[k] for k, v in first_match[0].items() if v == ["MATCH"]}

    def entries(declared: list, with_values: bool) -> list:
        out = []
        for pattern, prop, wild in declared:
            hits = [
                {"id": i, "property": prop}
                | ({"value": p[prop]} if with_values and prop in p else {})
                for i, p in components
                if matches(pattern, i, fixed)
            ]
            out.append(hits if wild == "ALL" else hits[0])
        return out

    shaped_inputs = entries(inputs, True)
    first = shaped_inputs[0] if not isinstance(shaped_inputs[0], list) else shaped_inputs[0][0]
    shaped_outputs = entries(outputs, False)
    body = {
        "output": key,
        "outputs": shaped_outputs if key.startswith("..") else shaped_outputs[0],
        "inputs": shaped_inputs,
        "changedPropIds": [prop_id(first["id"], first["property"])],
    }
    if state:
        body["state"] = entries(state, True)
    return body
