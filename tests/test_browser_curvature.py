"""Issue 17 in a real headless Chromium: the step inspector's curvature view (the model's
eigenvalues, level set and steps) and a line search's trials, on the slice and on the map,
read from the page and set beside service/curvature.py and the engine's own probes."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers.engine import Record, simulate
from optimizers.trace import trace_racer
from optimizers.validate import validate_race
from service.curvature import curvature
from surfaces import get_surface
from tests.live import RACE, open_tab, race_link, state

QUADRATIC = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}},
    "start": [2.0, 1.5],
    "steps": 20,
    "racers": [{"optimizer": "newton", "lr": 1}, {"optimizer": "sgd", "lr": 0.09}],
}
SADDLE = {
    "surface": {"name": "saddle", "params": {}},
    "start": [0.7, 0.4],
    "steps": 10,
    "racers": [{"optimizer": "newton", "lr": 1}],
}
LINE = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 0}},
    "start": [1.0, 1.0],
    "steps": 30,
    "racers": [{"optimizer": "gd_line_search", "lr": 1}],
}


def inspected(browser, live, race, racer=0, step=0, **context):
    ctx, tab = open_tab(
        browser, live[0] + race_link(race, f"&inspect={racer}&step={step}"), **context
    )
    tab.locator("#inspect-curvature svg.curv-model").wait_for(state="visible")
    return ctx, tab


def seek(tab, k: int) -> None:
    tab.evaluate(
        "k => window.dash_clientside.set_props(window.optimizerRace.ids.STEP_SLIDER, {value: k})",
        k,
    )
    tab.wait_for_function(f"k => {RACE}.rendered === k && {RACE}.idle()", arg=k)


def engine_view(race, racer=0):
    config = validate_race(race)
    trace = trace_racer(config, racer)
    return trace, curvature(config, racer, trace)


def test_newtons_model_on_a_tilted_bowl(browser, live):
    ctx, tab = inspected(browser, live, QUADRATIC)
    view = tab.locator("#inspect-curvature")
    # The Hessian's eigenvalues as the page prints them (full precision in data-value).
    values = [
        float(v)
        for v in view.locator("[data-name='eigenvalues'] [data-value]").evaluate_all(
            "els => els.map(e => e.dataset.value)"
        )
    ]
    np.testing.assert_allclose(values, [1.0, 20.0], rtol=1e-9)  # sent to 10 digits
    assert "eigenvalues of H" in view.inner_text()
    model = view.locator("svg.curv-model")
    assert model.get_attribute("data-level-set") == "ellipse"
    assert "an ellipse (a bowl)" in view.locator("[data-name='level_set']").inner_text()
    assert model.locator("polyline.curv-level").count() == 1
    for arrow in ("newton", "gradient", "taken"):
        assert model.locator(f"[data-arrow='{arrow}']").count() == 1, arrow
    assert model.locator("[data-eigen]").count() == 2
    # What the page holds is service/curvature.py's view of the same racer.
    trace, expected = engine_view(QUADRATIC)
    page = state(tab, f"{RACE}.trace.data.curvature")
    np.testing.assert_allclose(page["eigenvalues"], expected["eigenvalues"], rtol=1e-12)
    np.testing.assert_allclose(page["newton_step"][0], -trace.path[0], atol=1e-9)
    # Newton's step is the step taken here: both rows print the same numbers.
    newton = view.locator("[data-name='newton_step'] td").inner_text()
    assert newton == view.locator("[data-name='taken'] td").inner_text()
    # Another racer: a first-order one has no curvature view.
    tab.select_option("#inspect-select", "1")
    tab.wait_for_function(f"() => {RACE}.trace && {RACE}.trace.index === 1")
    tab.wait_for_function("() => document.getElementById('inspect-curvature').hidden")
    assert tab.problems == []
    ctx.close()


def test_a_saddle_is_drawn_as_a_hyperbola_with_two_branches(browser, live):
    ctx, tab = inspected(browser, live, SADDLE)
    model = tab.locator("#inspect-curvature svg.curv-model")
    assert model.get_attribute("data-level-set") == "hyperbola"
    assert model.locator("polyline.curv-level").count() == 2
    text = tab.inner_text("#inspect-curvature [data-name='level_set']")
    assert "hyperbola" in text and "indefinite" in text
    # The level set passes through θ: the model's branch points nearest θ (drawn at the
    # chart's θ dot) are within a few pixels of it.
    gap = tab.evaluate(
        """() => {
          const svg = document.querySelector('#inspect-curvature svg.curv-model');
          const dot = svg.querySelector('circle[r="4"][fill="#111"]');
          const x = +dot.getAttribute('cx'), y = +dot.getAttribute('cy');
          let best = Infinity;
          svg.querySelectorAll('polyline.curv-level').forEach(p => {
            p.getAttribute('points').split(' ').forEach(q => {
              const [a, b] = q.split(',').map(Number);
              best = Math.min(best, Math.hypot(a - x, b - y));
            });
          });
          return best;
        }"""
    )
    assert gap < 4
    assert tab.problems == []
    ctx.close()


def test_line_search_trials_on_the_slice_and_on_the_map(browser, live):
    ctx, tab = inspected(browser, live, LINE)
    config = validate_race(LINE)
    traj = simulate(
        get_surface("quadratic", a=20, b=1, angle=0),
        [config.racers[0]],
        np.array([config.start]),
        config.steps,
        None,
        config.tol,
        record=Record.STATE,
    )
    trace, expected = engine_view(LINE)
    for k in (0, 1, 2):
        if k:
            seek(tab, k)
        view = tab.locator("#inspect-curvature")
        count = int(traj.probe_counts[k, 0]) - 1  # the first probe is θ itself
        assert int(view.locator("[data-name='evaluated']").inner_text()) == count
        # On the map: every trial where the engine evaluated it.
        drawn = np.array(state(tab, f"{RACE}.use('curvature').trials()"))
        np.testing.assert_allclose(drawn, traj.probes[k, 0, 1 : count + 1], rtol=1e-12)
        # On the slice: the trials inside its frame, at their t; the last is accepted.
        slice_ = expected["line_search"]["slices"][k]
        ts = [
            float(t)
            for t in view.locator("svg.curv-slice circle.curv-trial").evaluate_all(
                "els => els.map(e => e.dataset.t)"
            )
        ]
        inside = [t for t in slice_["trials"] if t <= slice_["end"]]
        np.testing.assert_allclose(ts, inside, rtol=1e-12)
        assert ts[-1] == pytest.approx(slice_["accepted"], rel=1e-12)
        step = trace.path[k + 1] - trace.path[k]
        assert np.hypot(*step) == pytest.approx(ts[-1] * np.hypot(*trace.gradient[k]))
        # The Armijo line and the curvature band are drawn; trials beyond the frame listed.
        assert view.locator("svg.curv-slice .curv-armijo").count() == 1
        assert view.locator("svg.curv-slice .curv-band").count() >= 1
        beyond = [t for t in slice_["trials"] if t > slice_["end"]]
        note = view.inner_text()
        assert ("beyond the chart" in note) == bool(beyond)
    assert tab.problems == []
    ctx.close()


@pytest.mark.parametrize(
    ("width", "height", "present"), [(390, 844, False), (1024, 768, True), (1400, 900, False)]
)
def test_the_curvature_view_fits_phone_present_and_laptop(browser, live, width, height, present):
    touch = {"has_touch": True, "is_mobile": True} if width < 700 else {}
    ctx, tab = inspected(
        browser, live, QUADRATIC, viewport={"width": width, "height": height}, **touch
    )
    if present:
        tab.click("#present-button")
        tab.wait_for_function(f"() => {RACE}.presenting && {RACE}.idle()")
    # Nothing pushes the page sideways, and the map keeps its room beside the inspector.
    assert state(tab, "document.documentElement.scrollWidth") <= width
    graph = tab.locator("#race-graph").bounding_box()
    if width >= 1000:  # the stage fills the screen: the inspector scrolls in its own box
        assert graph["height"] >= 0.35 * height
    else:  # the phone's column: the map keeps its full width
        assert graph["width"] >= 0.9 * width
    chart = tab.locator("#inspect-curvature svg.curv-model").bounding_box()
    assert chart["width"] >= 150  # the model chart is large enough to read
    assert tab.problems == []
    ctx.close()
