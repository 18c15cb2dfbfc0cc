"""Prodigy's own rate on the page (issue 18): the leaderboard's note under its name shows the
engine's d·lr at the playhead, the rate chart draws d·lr growing while the others keep their
scheduled rate, and the note is on the screen in Present (1024×768) and on a phone. Each from
what the page shows."""

from __future__ import annotations

import numpy as np
import pytest

from optimizers.race import run_race
from optimizers.validate import validate_race
from tests.live import RACE, open_tab, race_link, state
from tests.test_browser_curvature import seek

# The race of the lesson prodigy_rate (lessons/modern.py): Prodigy beside Adam at a bad rate
# and Adam with a cosine schedule (a scheduled rate that is not constant either).
PRODIGY_RACE = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1, "angle": 30}},
    "start": [2.0, 1.5],
    "steps": 200,
    "racers": [
        {"optimizer": "prodigy", "lr": 1},
        {"optimizer": "adam", "lr": 0.001},
        {"optimizer": "adam", "lr": 0.2, "schedule": {"name": "cosine"}},
    ],
}
NOTE = "#leaderboard tr[data-racer='0'] .rate-now"


@pytest.fixture(scope="module")
def engine():
    return run_race(validate_race(PRODIGY_RACE)).racers


@pytest.fixture
def tab(browser, live):
    context, tab = open_tab(browser, live[0] + race_link(PRODIGY_RACE))
    yield tab
    context.close()


def shown_rate(tab) -> float:
    """The number in Prodigy's note, "d·lr 0.0123"."""
    name, value = tab.locator(NOTE).inner_text().split()
    assert name == "d·lr"
    return float(value)


def test_the_leaderboard_shows_the_engines_d_lr_at_the_playhead(tab, engine):
    seek(tab, 0)
    assert tab.locator(NOTE).inner_text() == "d·lr –"  # no estimate before the first step
    seen = []
    for k in (1, 10, 25, 120):
        seek(tab, k)
        # Three significant digits of the engine's d·lr after step k (float32 on the wire).
        assert shown_rate(tab) == pytest.approx(engine[0].lr[k - 1], rel=5e-3), k
        seen.append(shown_rate(tab))
    assert seen == sorted(seen) and seen[-1] > 1000 * seen[0]  # it grows, as the engine's
    # Racers at a scheduled rate have no note: their rate is the one they were given.
    assert tab.locator("#leaderboard .rate-now").count() == 1
    assert "estimated" in tab.locator(NOTE).get_attribute("title")


def test_the_rate_chart_draws_d_lr_growing_and_the_others_their_schedule(tab, engine):
    traces = state(
        tab,
        "document.querySelector('#lr-graph .js-plotly-plot').data"
        ".filter(d => d.mode === 'lines').map(d => Array.from(d.customdata))",
    )
    assert len(traces) == 3
    for drawn, result in zip(traces, engine, strict=True):
        np.testing.assert_allclose(drawn, result.lr, rtol=1e-6)  # float32 of the engine's lr
    prodigy = np.array(traces[0])
    assert prodigy[-1] > 1e4 * prodigy[0] and np.all(np.diff(prodigy) >= 0)
    assert traces[1] == [pytest.approx(0.001, rel=1e-6)] * 200  # Adam's constant rate
    assert traces[2][0] > 100 * traces[2][-1]  # the cosine's, falling
    title = state(
        tab, "document.querySelector('#lr-graph .js-plotly-plot').layout.yaxis.title.text"
    )
    assert title == "learning rate (or) d·lr"


@pytest.mark.parametrize(
    ("viewport", "touch"),
    [({"width": 1024, "height": 768}, False), ({"width": 390, "height": 844}, True)],
)
def test_the_note_is_on_the_screen_in_present_and_on_a_phone(
    browser, live, engine, viewport, touch
):
    """Present hides the rate chart: the note is then the only place the rate is; it must be
    inside the screen's width and as large as the ranking's other text."""
    context, page = open_tab(
        browser,
        live[0] + race_link(PRODIGY_RACE, "" if touch else "&present=1"),
        viewport=viewport,
        has_touch=touch,
        is_mobile=touch,
    )
    try:
        if not touch:
            page.wait_for_function(
                "() => document.documentElement.classList.contains('presenting')"
            )
        seek(page, 60)
        note = page.locator(NOTE)
        note.scroll_into_view_if_needed()
        assert note.is_visible()
        assert shown_rate(page) == pytest.approx(engine[0].lr[59], rel=5e-3)
        box = note.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        sizes = state(
            page,
            f'[document.querySelector("{NOTE}"), '
            "document.querySelector('#leaderboard tr td.rank')]"
            ".map(e => parseFloat(getComputedStyle(e).fontSize))",
        )
        assert sizes[0] == sizes[1]
    finally:
        context.close()


def test_the_inspector_names_the_rate_prodigy_estimates(tab, engine):
    """Inspecting Prodigy: its rate row says d·lr, not "learning rate", and holds the engine's;
    a scheduled racer's row keeps its name."""
    tab.select_option("#inspect-select", "0")
    tab.wait_for_function(f"() => {RACE}.trace && {RACE}.trace.index === 0 && {RACE}.trace.data")
    seek(tab, 9)  # the row of step 10
    row = tab.locator("#inspect-panel tr[data-name='lr']")
    assert row.locator("th").inner_text() == "d·lr after this step (its estimate)"
    shown = float(row.locator("td").first.get_attribute("data-value"))
    assert shown == pytest.approx(engine[0].lr[9], rel=1e-6)
    tab.select_option("#inspect-select", "1")
    tab.wait_for_function(f"() => {RACE}.trace && {RACE}.trace.index === 1")
    assert tab.locator("#inspect-panel tr[data-name='lr'] th").inner_text() == "learning rate"
