"""The page around the curvature racers (issue 17): Gauss–Newton's card and quick slider say it
takes no rate, L-BFGS's row says where torch's rule stopped it, a sweep names what it varies,
and many starts name a maximum a maximum. Each from what the page shows."""

from __future__ import annotations

import pytest

from optimizers.race import run_race
from optimizers.starts import many_starts
from optimizers.validate import validate_race
from tests.live import RACE, READY, control, open_tab, race_link, state

RACE_OF_THREE = {
    "surface": {"name": "quadratic"},
    "steps": 300,
    "racers": [
        {"optimizer": "lbfgs", "lr": 1, "params": {"line_search_fn": "strong_wolfe"}},
        {"optimizer": "gauss_newton", "lr": 1},
        {"optimizer": "adam", "lr": 0.05},
    ],
}


@pytest.fixture
def three(browser, live):
    context, tab = open_tab(browser, live[0] + race_link(RACE_OF_THREE))
    yield tab
    context.close()


def test_gauss_newton_shows_no_rate_to_set(three):
    card = three.locator("#racers .racer-card").nth(1)
    assert "No learning rate" in card.locator(".no-lr").inner_text()
    assert "damping" in card.locator(".no-lr").inner_text()
    assert not three.locator(control("racer-lr", 1)).is_visible()
    # Named by what sets its step, not by a rate it ignores.
    name = three.locator("#leaderboard tr[data-racer='1'] .racer-name").inner_text()
    assert "damping" in name and "lr" not in name
    assert three.locator(control("racer-lr", 0)).is_visible()  # L-BFGS keeps its rate
    row = three.locator("#quick-controls .quick-row[data-racer='1']")
    assert row.locator(".quick-rate").is_disabled()
    assert row.locator(".quick-value").inner_text() == "no rate"
    assert not three.locator("#quick-controls .quick-row[data-racer='0'] .quick-rate").is_disabled()


def test_lbfgs_says_where_torchs_rule_stopped_it(three):
    stopped = run_race(validate_race(RACE_OF_THREE)).racers[0].stopped_json()
    assert stopped is not None
    note = three.locator("#leaderboard tr[data-racer='0'] .stopped")
    # In words (issue 25, item 15): torch's option's name only in the title.
    words = {"tolerance_grad": "converged", "tolerance_change": "stalled"}[stopped["reason"]]
    assert note.inner_text() == f"stopped at step {stopped['step']} ({words})"
    assert "torch's rule" in note.get_attribute("title")
    assert stopped["reason"] in note.get_attribute("title")
    assert three.locator("#leaderboard tr[data-racer='2'] .stopped").count() == 0


def test_a_sweep_names_what_it_varies(three):
    three.locator("input[name='analysis-select'][value='sweep']").check()
    three.wait_for_function(
        "() => document.querySelectorAll('#sweep-graph .scatterlayer .trace').length > 0"
    )
    title = state(
        three,
        "document.querySelector('#sweep-graph .js-plotly-plot').layout.xaxis2.title.text",
    )
    assert title == "learning rate (or) damping λ"
    names = three.locator(".sweep-table tbody tr").all_inner_texts()
    assert "(swept: damping)" in names[1] and "swept" not in names[0]


def test_many_starts_name_newtons_maximum_on_himmelblau(browser, live):
    race = {"surface": {"name": "himmelblau"}, "racers": [{"optimizer": "newton", "lr": 1}]}
    context, tab = open_tab(browser, live[0] + race_link(race, "&analysis=starts"))
    try:
        tab.wait_for_function(f"() => {RACE}.starts && document.querySelector('#starts-summary')")
        expected = many_starts(validate_race(race), 0, "grid", 64)
        kinds = {b.kind for b in expected.basins}
        assert "maximum" in kinds  # plain Newton climbs to Himmelblau's maximum from some starts
        rows = tab.locator("#starts-summary tr[data-basin]").all_inner_texts()
        maxima = [r for r in rows if "listed maximum" in r]
        assert len(maxima) == 1 and "(-0.271, -0.923)" in maxima[0]
        assert not [r for r in rows if "listed minimum" in r and "(-0.271, -0.923)" in r]
        assert state(tab, f"{RACE}.starts.basins.filter(b => b.kind === 'maximum').length") == 1
    finally:
        context.close()


@pytest.mark.parametrize(
    ("viewport", "touch"),
    [({"width": 1024, "height": 768}, False), ({"width": 390, "height": 844}, True)],
)
def test_work_to_tol_stays_in_view_when_steps_cost_more_than_one_gradient(
    browser, live, viewport, touch
):
    """Present (and a phone) drops the ranking's extra columns, but a lesson's caption quotes
    the work clock (lbfgs_rosenbrock, line_search): with a racer whose steps cost more than one
    gradient, "work to tol" stays, showing the engine's number; with none, it goes."""
    extra = "&present=1" if not touch else ""
    context, tab = open_tab(
        browser,
        live[0] + race_link(RACE_OF_THREE, extra),
        viewport=viewport,
        has_touch=touch,
        is_mobile=touch,
    )
    try:
        if not touch:
            tab.wait_for_function("() => document.documentElement.classList.contains('presenting')")
        header = tab.locator("#leaderboard thead th.col-work")
        assert header.is_visible()
        # On the screen, not clipped off the side column's right edge.
        cell = tab.locator("#leaderboard tr[data-racer='0'] .col-work").bounding_box()
        table = tab.locator("#leaderboard").bounding_box()
        assert cell["x"] + cell["width"] <= min(viewport["width"], table["x"] + table["width"]) + 1
        expected = run_race(validate_race(RACE_OF_THREE)).racers[0].work_to_tol
        shown = tab.locator("#leaderboard tr[data-racer='0'] .col-work").inner_text()
        assert float(shown) == pytest.approx(expected, rel=1e-3)
        assert not tab.locator("#leaderboard thead th.col-best").is_visible()  # extras hidden
        # One gradient a step everywhere: the work is the steps, and the column goes.
        tab.goto(
            live[0] + race_link({**RACE_OF_THREE, "racers": RACE_OF_THREE["racers"][2:]}, extra)
        )
        tab.wait_for_function(READY)
        assert state(tab, f"{RACE}.racers.length") == 1
        assert tab.locator("#leaderboard thead th.col-work").count() == 1
        assert not tab.locator("#leaderboard thead th.col-work").is_visible()
    finally:
        context.close()
