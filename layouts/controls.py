"""One control per registry parameter (``Param``): the UI is generated, never hand-listed."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from common.params import Param

PAIR_SEPARATOR = ":"


def param_id(kind: str, name: str, index: int | None = None) -> dict[str, Any]:
    """Pattern-matching id of a parameter control; racers' controls carry their index."""
    return (
        {"type": kind, "name": name}
        if index is None
        else {"type": kind, "index": index, "name": name}
    )


def param_controls(
    kind: str, params: tuple[Param, ...], values: dict[str, Any], index: int | None = None
) -> list:
    """A labelled input for each parameter, with its help as a tooltip and its bounds shown."""
    rows = []
    for p in params:
        value = values.get(p.name, p.default)
        rows.append(
            html.Label(
                [html.Span(p.label, className="param-name"), _input(kind, p, value, index)],
                className="param",
                title=_tooltip(p),
            )
        )
    return rows


def _tooltip(p: Param) -> str:
    bounds = f" {p.bounds_text()}" if p.kind in ("float", "int", "pair") else ""
    return p.help + bounds


def _input(kind: str, p: Param, value: Any, index: int | None):
    if p.kind == "bool":
        return dcc.Checklist(
            id=param_id(kind, p.name, index),
            options=[{"label": "", "value": "on"}],
            value=["on"] if value else [],
            className="param-bool",
        )
    if p.kind == "choice":
        return dcc.Dropdown(
            id=param_id(kind, p.name, index),
            options=list(p.choices),
            value=value,
            clearable=False,
            className="param-choice",
        )
    if p.kind == "pair":
        return html.Span(
            [
                _number(param_id(kind, f"{p.name}{PAIR_SEPARATOR}{i}", index), value[i], p)
                for i in range(2)
            ],
            className="param-pair",
        )
    return _number(param_id(kind, p.name, index), value, p)


def _number(id_: dict[str, Any], value: Any, p: Param):
    return dcc.Input(
        id=id_,
        type="number",
        value=value,
        debounce=True,
        placeholder="auto" if p.nullable else "",
        className="param-number",
    )


def number_field(id_: Any, label: str, value: Any, help: str, **bounds: Any) -> html.Label:
    """A labelled number box outside the registries (steps, noise, clipping)."""
    return html.Label(
        className="param",
        title=help,
        children=[
            html.Span(label, className="param-name"),
            dcc.Input(
                id=id_,
                type="number",
                value=value,
                debounce=True,
                className="param-number",
                **bounds,
            ),
        ],
    )


def graph(id_: str, height: str, scroll_zoom: bool = False) -> dcc.Graph:
    """A chart whose figure the browser draws from a store (assets/): Dash only places it.
    Scroll-to-zoom only where it helps (the race's own plots): elsewhere the wheel scrolls
    the page."""
    config = {"displaylogo": False, "responsive": True, "scrollZoom": scroll_zoom}
    return dcc.Graph(id=id_, config=config, style={"height": height})
