"""The whole page: map and playback on the left, charts and leaderboard beside, settings below.

The ids listed in the issue are stable: tests, the bench and other people's checks use them.
"""

from __future__ import annotations

import json
from typing import Any

from dash import dcc, html

from layouts import ids
from layouts.analysis import analysis_section
from layouts.controls import (
    MAX_PAGE_RACERS,
    SETTINGS_LABELS,
    dialog,
    graph,
    number_field,
    param_controls,
)
from layouts.handoff import controls_note, handoff_button, handoff_dialog
from layouts.racer import racer_card
from lessons import LESSONS, Lesson
from surfaces import SURFACES

SPEEDS = (0.25, 0.5, 1, 2, 4, 8, 16)


def add_racer_state(count: int) -> dict[str, Any]:
    """The Add button's text and whether it works, for ``count`` racers: at the page's most
    it says so instead of doing nothing."""
    full = count >= MAX_PAGE_RACERS
    text = f"{MAX_PAGE_RACERS} racers: the most a race shows" if full else "+ Add racer"
    return {"children": text, "disabled": full}


def surface_params(name: str, values: dict[str, Any]) -> list:
    return param_controls(ids.SURFACE_PARAM, SURFACES[name].params, values)


def playback_bar() -> html.Div:
    return html.Div(
        className="playback",
        children=[
            html.Button("▶ Play", id=ids.PLAY_BUTTON, n_clicks=0, title="Play / pause (Space)"),
            html.Button("◀", id=ids.STEP_BACK, n_clicks=0, title="One step back (←)"),
            html.Button("▶|", id=ids.STEP_FORWARD, n_clicks=0, title="One step forward (→)"),
            html.Div(
                dcc.Slider(
                    id=ids.STEP_SLIDER,
                    min=0,
                    max=1,
                    step=1,
                    value=0,
                    marks=None,
                    allow_direct_input=False,
                ),
                className="step-slider",
            ),
            html.Span("step 0", id=ids.STEP_LABEL, className="step-label"),
            dcc.Dropdown(
                id=ids.SPEED_SELECT,
                options=[{"label": f"{s:g}×", "value": s} for s in SPEEDS],
                value=1,
                clearable=False,
                searchable=False,
                className="speed-select",
            ),
            dcc.Checklist(id=ids.LOOP_TOGGLE, options=[{"label": "loop", "value": "on"}], value=[]),
        ],
    )


def toolbar() -> html.Div:
    """View, presentation, sharing and export. These act in the browser (assets/tools.js):
    they read the race already on the page, or ask the export API for full precision."""
    return html.Div(
        className="toolbar",
        children=[
            dcc.RadioItems(
                id=ids.VIEW_SELECT,
                options=[{"label": "map", "value": "2d"}, {"label": "3-D", "value": "3d"}],
                value="2d",
                inline=True,
                className="view-select",
            ),
            html.Button(
                "Present",
                id=ids.PRESENT_BUTTON,
                title="presentation mode: the map fills the screen (P; Esc leaves)",
                **{"data-action": "present", "aria-pressed": "false"},
            ),
            # On a touch screen a tap on the map moves the start only while this is pressed:
            # a tap meant to scroll never moves it (assets/tools.js).
            html.Button(
                "Move start",
                id=ids.MOVE_START,
                className="touch-only",
                title="then tap the map where every racer should start",
                **{"data-action": "move-start", "aria-pressed": "false"},
            ),
            html.Button("Copy link", id=ids.COPY_LINK, **{"data-action": "copy-link"}),
            handoff_button(),
            html.Label(
                className="share-link",
                children=[
                    html.Span("link to this race", className="visually-hidden"),
                    dcc.Input(id=ids.SHARE_LINK, type="text", readOnly=True, value=""),
                ],
            ),
            html.Details(
                className="menu export-menu",
                children=[
                    html.Summary("Export"),
                    html.Div(
                        className="menu-items",
                        children=[
                            html.A("race as JSON", id=ids.EXPORT_JSON, href="#", download=""),
                            html.Div(id=ids.EXPORT_CSV, className="export-csv"),
                            html.Button(
                                "figure as PNG", id=ids.EXPORT_PNG, **{"data-action": "png"}
                            ),
                        ],
                    ),
                ],
            ),
            html.Span(id=ids.TOOL_STATUS, role="status", className="tool-status"),
            html.Label(
                className="inspect-choice",
                children=[
                    html.Span("inspect"),
                    html.Select(id=ids.INSPECT_SELECT, children=[html.Option("off", value="")]),
                ],
            ),
        ],
    )


def inspector() -> html.Div:
    """The state of the inspected racer at the playback step (filled by assets/tools.js), and
    for racers that use curvature its view (assets/curvature.js)."""
    return html.Div(
        [
            html.Div(id=ids.INSPECT_PANEL, className="inspect-panel", hidden=True),
            html.Div(id=ids.INSPECT_CURVATURE, className="inspect-curvature", hidden=True),
        ],
        className="inspector",
        # It scrolls in its own box where the stage fills the screen (assets/curvature.css):
        # focusable, so a keyboard can scroll it too.
        tabIndex="0",
        role="region",
        **{"aria-label": "step inspector"},
    )


def code_dialog() -> html.Dialog:
    """Where "PyTorch" shows a racer's torch.optim code, with a button to copy it."""
    return dialog(
        ids.CODE_DIALOG,
        "code-dialog",
        ids.CODE_TITLE,
        "This racer in PyTorch",
        # Focusable, so the code scrolls from the keyboard too.
        [html.Pre(html.Code(id=ids.CODE_TEXT), tabIndex="0")],
        [
            html.Button("Copy code", id=ids.COPY_CODE, **{"data-action": "copy-code"}),
            html.Button("Close", id=ids.CLOSE_CODE, **{"data-action": "close-code"}),
        ],
    )


def settings_panel(race: dict[str, Any]) -> html.Div:
    surface = race["surface"]
    return html.Div(
        className="settings",
        children=[
            html.H2("Surface"),
            dcc.Dropdown(
                id=ids.SURFACE_SELECT,
                options=[{"label": s.title, "value": s.name} for s in SURFACES.values()],
                value=surface["name"],
                clearable=False,
            ),
            html.Div(
                id=ids.SURFACE_PARAMS,
                className="racer-params",
                children=surface_params(surface["name"], surface.get("params", {})),
            ),
            html.Div(id=ids.SURFACE_ERROR, className="field-error"),
            html.P(
                "Click the map to move every racer's start (on a touch screen: Move start, "
                "then tap).",
                className="hint",
            ),
            html.H2("Race"),
            number_field(
                ids.STEPS_INPUT,
                SETTINGS_LABELS["steps"],
                race["steps"],
                "number of optimizer steps, 10 … 5,000",
            ),
            number_field(
                ids.NOISE_STD,
                SETTINGS_LABELS["noise.std"],
                race["noise"]["std"],
                "σ of Gaussian noise added to every gradient coordinate (0: exact gradients)",
            ),
            number_field(
                ids.NOISE_SEED,
                SETTINGS_LABELS["noise.seed"],
                race["noise"]["seed"],
                "seed of the noise; every racer gets the same noise sequence",
            ),
            number_field(
                ids.WORK_BUDGET,
                SETTINGS_LABELS["work_budget"],
                race.get("work_budget"),
                "stop each racer when its work (gradient evaluations; a function value counts "
                "½, a 2×2 Hessian 2) reaches this; empty: no budget, the steps decide",
                placeholder="none",
            ),
            html.Div(id=ids.SETTINGS_ERROR, className="field-error"),
        ],
    )


def lesson_menu(current: Lesson | None) -> html.Details:
    """One link per lesson: a lesson is a page load with its race in the URL."""
    return html.Details(
        className="lessons",
        open=False,
        children=[
            html.Summary("Lessons"),
            html.Ul(
                [
                    html.Li(
                        html.A(
                            lesson.title,
                            href=f"?lesson={name}",
                            className="current" if current and current.name == name else "",
                        )
                    )
                    for name, lesson in LESSONS.items()
                ]
            ),
        ],
    )


def beat_link(lesson: Lesson, beat: int) -> str:
    """A beat is a page load: its link names the lesson and the beat, counted from 1."""
    return f"?lesson={lesson.name}&beat={beat + 1}"


def beat_settings(lesson: Lesson, beat: int) -> dict[str, Any]:
    """What the browser applies once the beat's race is drawn (assets/lesson.js): where to
    stop, what to play, how to look, and the question to ask first, if this beat has it."""
    settings = lesson.beats[beat].to_json()
    del settings["race"], settings["claims"], settings["caption"]
    question = lesson.question
    asked = question is not None and question.beat == beat
    return {
        "lesson": lesson.name,
        "beat": beat,
        "beats": len(lesson.beats),
        **settings,
        "question": {"prompt": question.prompt, "answer": question.answer} if asked else None,
        # A later beat asks: this one keeps the ranking's whole-race figures until reached.
        "asked_later": question is not None and question.beat > beat,
        "self": beat_link(lesson, beat),
        "previous": beat_link(lesson, beat - 1) if beat > 0 else None,
        "next": beat_link(lesson, beat + 1) if beat + 1 < len(lesson.beats) else None,
    }


def beat_block(lesson: Lesson, beat: int) -> str:
    """The beat's settings as a JSON data block for the index page, read by assets/lesson.js
    before the other scripts read the address (never executed: no CSP hash needed)."""
    text = json.dumps(beat_settings(lesson, beat)).replace("<", "\\u003c")
    return f'<script id="{ids.LESSON_BEAT}" type="application/json">{text}</script>'


def beat_nav(lesson: Lesson, beat: int) -> html.Nav:
    """Back and Next as plain links (a clicker's PageUp/PageDown follow them in Present)."""
    count = len(lesson.beats)

    def step(text: str, target: int, action: str, off: str) -> Any:
        if 0 <= target < count:
            return html.A(text, href=beat_link(lesson, target), **{"data-action": action})
        return html.Span(off, className="beat-off")

    return html.Nav(
        className="beat-nav",
        **{"aria-label": "the lesson's beats"},
        children=[
            step("‹ Back", beat - 1, "beat-back", "first beat"),
            html.Span(f"beat {beat + 1} of {count}", className="beat-count"),
            step("Next ›", beat + 1, "beat-next", "end of the lesson"),
            *next_lesson(lesson, beat),
        ],
    )


def next_lesson(lesson: Lesson, beat: int) -> list[Any]:
    """The last beat offers the next lesson (a clicker's PageDown follows it in Present)."""
    names = list(LESSONS)
    at = names.index(lesson.name) if lesson.name in names else len(names)
    if beat + 1 < len(lesson.beats) or at + 1 >= len(names):
        return []
    following = LESSONS[names[at + 1]]
    return [
        html.A(
            "Next lesson ›",
            href=f"?lesson={following.name}",
            className="next-lesson",
            title=following.title,
            **{"data-action": "beat-next", "aria-label": f"next lesson: {following.title}"},
        )
    ]


def play_to(lesson: Lesson, beat: int) -> list[Any]:
    """A beat whose caption looks at a later step than it opens on offers to play there (the
    clicker's first press does the same, assets/lesson.js): the map at step 0 under words
    about step 40 reads as a contradiction otherwise."""
    shown = lesson.beats[beat]
    if shown.step is None or shown.step <= (shown.play_from or 0):
        return []
    return [
        html.Button(
            f"▶ Play to step {shown.step}",
            className="beat-play",
            type="button",
            **{"data-action": "beat-play"},
        )
    ]


def caption(lesson: Lesson | None, note: str, beat: int = 0) -> html.Div:
    children: list[Any] = []
    if lesson is not None:
        beat = min(max(beat, 0), len(lesson.beats) - 1)
        # A title that ends in its own mark ("How much momentum?") takes no full stop.
        title = lesson.title if lesson.title[-1:] in "?!." else lesson.title + "."
        children = [
            html.Strong(title + " "),
            html.Span(lesson.beats[beat].caption, className="beat-caption"),
            *play_to(lesson, beat),
        ]
        if len(lesson.beats) > 1:
            children.append(beat_nav(lesson, beat))
    if note:
        children.append(html.Span(note, className="field-error"))
    return html.Div(children, id=ids.LESSON_CAPTION, className="caption", hidden=not children)


# What the lower chart can show against the step, each on a log axis.
LOWER_CHARTS = {"lr": "learning rate", "step_length": "step length", "grad_norm": "gradient norm"}


def side_panel() -> html.Aside:
    """Beside the map: the quick controls, the ranking and the two charts. Their order is the
    phone's reading order too (assets/style.css moves the quick controls below the charts)."""
    return html.Aside(
        className="side",
        **{"aria-label": "racers, ranking and charts"},
        children=[
            html.Div(
                id=ids.QUICK_CONTROLS,
                className="quick-controls",
                role="group",
                **{"aria-label": "each racer's learning rate (drag to race again) and visibility"},
            ),
            html.Div(id=ids.LEADERBOARD, className="leaderboard"),
            html.Div(
                className="charts",
                children=[
                    graph(ids.LOSS_GRAPH, scroll_zoom=True),
                    html.Div(
                        role="group",
                        className="loss-axis-choice",
                        title="the loss against the step, or against the work done "
                        "(gradient evaluations: a function value counts ½, a 2×2 Hessian 2)",
                        **{"aria-label": "loss chart's axis"},
                        children=dcc.RadioItems(
                            id=ids.LOSS_AXIS,
                            options=[
                                {"label": "by step", "value": "step"},
                                {"label": "by work", "value": "work"},
                            ],
                            value="step",
                            inline=True,
                            className="loss-axis",
                        ),
                    ),
                    html.Div(
                        role="group",
                        className="lower-chart-choice",
                        title="what the lower chart shows against the step (log scale)",
                        **{"aria-label": "lower chart"},
                        children=dcc.RadioItems(
                            id=ids.LOWER_CHART,
                            options=[{"label": t, "value": k} for k, t in LOWER_CHARTS.items()],
                            value="lr",
                            inline=True,
                            className="lower-chart",
                        ),
                    ),
                    graph(ids.LR_GRAPH, scroll_zoom=True),
                ],
            ),
        ],
    )


def stage(preparing: str = "") -> html.Div:
    """The map with its tools, key and playback; beside it the quick controls, the ranking and
    the charts. On a laptop and in Present the stage fills the first screen."""
    return html.Div(
        className="stage",
        children=[
            html.Section(
                className="map",
                **{"aria-label": "the race on the map"},
                children=[
                    controls_note(),  # on the students' link only (assets/phone.css)
                    toolbar(),
                    html.Div(
                        preparing, id=ids.RACE_PREPARING, role="status", className="race-preparing"
                    ),
                    # While the page's race waits for its loops (``preparing``), the race
                    # callback asks again each second (callbacks/wiring.py).
                    dcc.Interval(id=ids.PREPARING_POLL, interval=1000, disabled=not preparing),
                    graph(ids.RACE_GRAPH, scroll_zoom=True),
                    html.Div(id=ids.RACE_3D, className="race-3d", hidden=True),
                    # Who is who: colour, marker and line pattern as drawn, with each name.
                    html.Ul(id=ids.MAP_KEY, className="map-key", **{"aria-label": "key"}),
                    playback_bar(),
                    inspector(),
                ],
            ),
            side_panel(),
        ],
    )


def page(
    race: dict[str, Any],
    opening: dict[str, Any],
    lesson: Lesson | None = None,
    note: str = "",
    beat: int = 0,
    *,
    slots: list[int],
    preparing: str = "",
) -> html.Div:
    """The page with ``race`` in its controls and ``opening`` (its computed stores) loaded;
    ``slots`` are the racers' card indices (their colours): app.card_slots decides them.
    ``preparing``: why the race is not here yet (``make run``'s warm-up is compiling its
    loops); the stores are then empty and the race callback polls until it can run it."""
    racers = race["racers"]
    noisy = race["noise"]["std"] > 0
    return html.Div(
        className="page",
        children=[
            html.Header(
                [
                    html.H1("Optimizer Race"),
                    # What the race is, in one line (issue 25: a newcomer's first ten seconds).
                    # A phone shows the short line and reads out the whole (assets/phone.css).
                    html.Span(
                        [
                            html.Span(
                                "Optimizers race downhill from one start ○ to the lowest "
                                "point ★; f − f* is how far a racer's loss is above the lowest, "
                                "f*.",
                                className="subtitle-full",
                            ),
                            html.Span(
                                "Optimizers race downhill from ○ to the lowest point ★",
                                className="subtitle-short",
                                **{"aria-hidden": "true"},
                            ),
                        ],
                        className="subtitle",
                    ),
                    lesson_menu(lesson),
                ]
            ),
            html.Main(
                [
                    caption(lesson, note, beat),
                    stage(preparing),
                    analysis_section(),
                    html.Section(
                        className="controls",
                        **{"aria-label": "surface, race and racers"},
                        children=[
                            settings_panel(race),
                            html.Div(
                                className="racers",
                                children=[
                                    html.H2("Racers"),
                                    html.Div(
                                        id=ids.RACERS,
                                        className="racer-list",
                                        children=[
                                            racer_card(i, r, noisy)
                                            for i, r in zip(slots, racers, strict=True)
                                        ],
                                    ),
                                    html.Button(
                                        id=ids.ADD_RACER,
                                        n_clicks=0,
                                        title=f"up to {MAX_PAGE_RACERS} racers",
                                        **add_racer_state(len(racers)),
                                    ),
                                ],
                            ),
                        ],
                    ),
                ]
            ),
            dcc.Store(id=ids.RACE_STORE, data=opening["race"]),
            dcc.Store(id=ids.RACE_KEYS, data=opening["keys"]),
            dcc.Store(id=ids.SURFACE_STORE, data=opening["surface"]),
            # Changed update rules, typeset in the browser one per frame (assets/playback.js).
            dcc.Store(id=ids.EQUATIONS_STORE),
            dcc.Store(
                id=ids.START_STORE,
                data={"surface": race["surface"]["name"], "point": race.get("start")},
            ),
            dcc.Store(id=ids.NEXT_INDEX, data=max(slots, default=-1) + 1),
            code_dialog(),
            handoff_dialog(),
        ],
    )
