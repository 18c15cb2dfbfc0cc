"""The step inspector on issue 18's racers, in Chromium: Schedule-Free's three sequences (y where
the gradient is taken, z the base sequence, x the average drawn on the map) and Sophia's
curvature estimate and which coordinates its clip cut, each row equal to the engine's trace
at the step shown and labelled with what it means."""

from __future__ import annotations

import pytest

from optimizers.trace import trace_racer
from optimizers.validate import validate_race
from tests.live import RACE, open_tab, race_link, state

RACE_JSON = {
    "surface": {"name": "saddle", "params": {}},
    "steps": 40,
    "start": [0.7, 0.4],
    "racers": [
        {"optimizer": "schedule_free_sgd", "lr": 0.05},
        {"optimizer": "sophia", "lr": 0.05, "params": {"p": 1, "estimator": "exact"}},
    ],
}
STEP = 5

ROWS = (
    "Object.fromEntries(Array.from(document.querySelectorAll('#inspect-panel tr[data-name]'))"
    ".map(r => [r.dataset.name, {label: r.querySelector('th').textContent,"
    " values: Array.from(r.querySelectorAll('td[data-value]')).map(c => Number(c.dataset.value)),"
    " text: Array.from(r.querySelectorAll('td[data-value]')).map(c => c.textContent)}]))"
)


def shown_rows(browser, live, racer: int) -> dict:
    ctx, tab = open_tab(browser, live[0] + race_link(RACE_JSON, f"&inspect={racer}&step={STEP}"))
    tab.wait_for_function(f"i => {RACE}.trace && {RACE}.trace.index === i", arg=racer)
    tab.wait_for_function(f"s => {RACE}.step === s", arg=STEP)
    tab.wait_for_selector("#inspect-panel tr[data-name='step']")
    rows = state(tab, ROWS)
    assert tab.problems == []
    ctx.close()
    return rows


def test_schedule_free_shows_y_z_and_the_drawn_x(browser, live):
    trace = trace_racer(validate_race(RACE_JSON), 0)
    rows = shown_rows(browser, live, 0)
    for name, label in (("y", "gradient taken here"), ("z", "base sequence")):
        assert rows[name]["values"] == trace.state[name][STEP].tolist(), name
        assert label in rows[name]["label"]
    assert rows["x"]["values"] == trace.derived["x"][STEP].tolist()
    assert "the point drawn" in rows["x"]["label"]
    # x is where the racer is drawn: the step that leaves x_5 lands on the trace's x_6.
    assert rows["x"]["values"] == trace.path[STEP + 1].tolist()
    # Three different points: y and z are not x (else the rows would say nothing).
    assert rows["y"]["values"] != rows["x"]["values"] != rows["z"]["values"]


def test_sophia_shows_its_curvature_estimate_and_the_clipped_coordinates(browser, live):
    trace = trace_racer(validate_race(RACE_JSON), 1)
    rows = shown_rows(browser, live, 1)
    assert rows["hessian_moment"]["values"] == trace.state["hessian_moment"][STEP].tolist()
    assert "curvature estimate" in rows["hessian_moment"]["label"]
    # On the saddle the exact diagonal is (2, −2).
    assert rows["hessian"]["values"] == [2.0, -2.0]
    # Far from any minimum both coordinates are clipped: a sign step of exactly lr·p = 0.05.
    assert trace.state["clipped"][STEP].tolist() == [1.0, 1.0]
    assert rows["clipped"]["text"] == ["yes", "yes"]
    assert [abs(v) for v in rows["step"]["values"]] == pytest.approx([0.05, 0.05], rel=1e-12)
