"""The fair-race views below the map: the learning-rate sweep (with auto-tune) and many starts.

Both are computed only while shown, and drawn in the browser (assets/race-analysis.js) from one
store each; noisy fans need no view of their own, they are drawn on the map and loss chart.
"""

from __future__ import annotations

from dash import dcc, html

from layouts import ids
from layouts.controls import graph, number_field
from optimizers.config import CRITERIA, DEFAULT_CRITERION
from optimizers.validate import GRID_COUNT, GRID_HIGH, GRID_LOW, STARTS_COUNT, STARTS_LAYOUT


def labelled(text: str, control: object) -> html.Label:
    return html.Label(
        className="param", children=[html.Span(text, className="param-name"), control]
    )


def panel(id_: str, controls: list, body: list) -> html.Div:
    """A view: its controls in a row, then what it shows; hidden until chosen."""
    return html.Div(
        id=id_,
        className="analysis-panel",
        hidden=True,
        children=[html.Div(className="analysis-controls", children=controls), *body],
    )


def sweep_panel() -> html.Div:
    return panel(
        ids.SWEEP_PANEL,
        [
            labelled(
                "judge each rate by",
                dcc.RadioItems(
                    id=ids.TUNE_CRITERION,
                    options=[{"label": c.label, "value": name} for name, c in CRITERIA.items()],
                    value=DEFAULT_CRITERION,
                    inline=True,
                ),
            ),
            html.Button(
                "Auto-tune every racer",
                id=ids.TUNE_BUTTON,
                n_clicks=0,
                title="set each racer to its own best rate by this criterion, then race",
            ),
            html.Span(id=ids.SWEEP_STATUS, role="status", className="tool-status"),
        ],
        [
            html.P(
                f"Each racer's optimizer over {GRID_COUNT.default} rates from "
                f"{GRID_LOW.default:g} to {GRID_HIGH.default:g}, "
                "its other settings unchanged, judged after the race's full horizon. The best "
                "rate is one whose neighbours on the grid also do well: each rate is judged by "
                "the worst result among it and its two neighbours, so an isolated dip (▽) is "
                "not chosen.",
                id=ids.SWEEP_CAPTION,
                className="hint",
            ),
            graph(ids.SWEEP_GRAPH, "52vh"),
            html.Div(id=ids.SWEEP_TABLE, className="leaderboard"),
        ],
    )


def starts_panel() -> html.Div:
    return panel(
        ids.STARTS_PANEL,
        [
            labelled(
                "racer",
                dcc.Dropdown(
                    id=ids.STARTS_RACER,
                    options=[],
                    value=None,
                    clearable=False,
                    searchable=False,
                    className="starts-racer",
                ),
            ),
            labelled(
                "starts",
                dcc.RadioItems(
                    id=ids.STARTS_LAYOUT,
                    options=[{"label": name, "value": name} for name in STARTS_LAYOUT.choices],
                    value=STARTS_LAYOUT.default,
                    inline=True,
                ),
            ),
            # A text box sending what was typed (issue 25: a number input sent null for 0, −1,
            # 3 and 100,000, and the refusal read "got null"); the validator quotes it.
            number_field(
                ids.STARTS_COUNT, "how many", STARTS_COUNT.default, STARTS_COUNT.help, STARTS_COUNT
            ),
            html.Span(id=ids.STARTS_STATUS, role="status", className="tool-status"),
        ],
        [
            graph(ids.STARTS_GRAPH, "60vh"),
            html.Div(id=ids.STARTS_SUMMARY, className="leaderboard"),
        ],
    )


def analysis_section() -> html.Section:
    return html.Section(
        className="analysis",
        **{"aria-label": "rate sweep and many starts"},
        children=[
            html.Div(
                className="analysis-bar",
                children=[
                    html.H2("Fair race"),
                    dcc.RadioItems(
                        id=ids.ANALYSIS_SELECT,
                        options=[
                            {"label": "off", "value": ""},
                            {"label": "rate sweep & auto-tune", "value": "sweep"},
                            {"label": "many starts", "value": "starts"},
                        ],
                        value="",
                        inline=True,
                        className="view-select",
                    ),
                ],
            ),
            sweep_panel(),
            starts_panel(),
            # {share, order} of the race on the page, derived in the browser from race-store:
            # all the views send the server (callbacks/analysis.py).
            dcc.Store(id=ids.RACE_SHARE),
            dcc.Store(id=ids.SWEEP_STORE),
            dcc.Store(id=ids.STARTS_STORE),
            dcc.Store(id=ids.TUNE_STORE),
            # A shared link's "tuned" claim, checked on the server (callbacks/analysis.py).
            dcc.Store(id=ids.TUNE_CLAIM),
        ],
    )
