"""Issue 16's work clock on the page, in a real headless Chromium: the loss chart drawn against
the work done (gradient evaluations) and a race budgeted by work, from a share link."""

from __future__ import annotations

from tests.live import RACE, READY, race_link, state

LOSS_TRACES = (
    "[...document.querySelector('#loss-graph .js-plotly-plot').data]"
    ".filter(t => t.mode === 'lines' && !t.name.endsWith(' end'))"
)


def test_the_loss_chart_switches_to_work_and_a_budget_stops_the_race(page, live):
    race = {
        "surface": {"name": "quadratic"},
        "steps": 200,
        "work_budget": 10,
        "racers": [{"optimizer": "sgd", "lr": 0.01}, {"optimizer": "adam", "lr": 0.05}],
    }
    page.goto(live[0] + race_link(race))
    page.wait_for_function(READY)
    # Every racer stops when its work reaches the budget: one gradient a step, 10 steps.
    assert state(page, f"{RACE}.racers.map(r => r.n)") == [11, 11]
    assert state(page, f"{RACE}.racers.map(r => r.work[r.n - 1])") == [10, 10]
    title = "document.querySelector('#loss-graph .xtitle').textContent"
    assert state(page, title) == "step"
    page.locator("#loss-axis input[value='work']").check()
    page.wait_for_function(f"() => {title} === 'work (gradient evaluations)'")
    # Each curve ends at the work its racer did, not at its step count.
    ends = state(page, f"{LOSS_TRACES}.map(t => t.x[t.x.length - 1])")
    assert ends == state(page, f"{RACE}.racers.map(r => r.work[r.n - 1])")
    # The leaderboard says how much work each racer needed to arrive (none did here).
    header = page.locator("#leaderboard th.col-work")
    assert header.inner_text() == "work to tol"
    page.locator("#loss-axis input[value='step']").check()
    page.wait_for_function(f"() => {title} === 'step'")


def test_a_work_budget_typed_on_the_page_stops_every_racer(page):
    steps = state(page, f"{RACE}.steps")
    box = page.locator("#work-budget")
    assert box.input_value() == ""  # no budget: the steps decide
    box.fill("12")
    box.press("Enter")
    page.wait_for_function(f"() => {RACE}.racers.every(r => r.n === 13)")
    assert "work_budget" in page.evaluate(
        "() => atob(" + RACE + ".race.share.replace(/-/g, '+').replace(/_/g, '/'))"
    )
    box.fill("")
    box.press("Enter")
    page.wait_for_function(
        f"n => {RACE}.racers.every(r => r.n === n + 1 || r.diverged_at)", arg=steps
    )
