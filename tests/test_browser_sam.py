"""Sharpness-aware steps from a racer's card, in a real headless Chromium: typing ρ races that
racer with SAM (another path, twice the work a step on the work clock), the link carries it,
and emptying the box brings the racer back."""

from __future__ import annotations

from tests.live import RACE, READY, control, state

SHARED = f"JSON.parse(atob({RACE}.race.share.replace(/-/g, '+').replace(/_/g, '/')))"
LOSS_ENDS = (
    "[...document.querySelector('#loss-graph .js-plotly-plot').data]"
    ".filter(t => t.mode === 'lines' && !t.name.endsWith(' end'))"
    ".map(t => t.x[t.x.length - 1])"
)


def test_sam_typed_in_a_card_changes_the_race_and_doubles_its_work(page):
    page.wait_for_function(READY)
    steps = state(page, f"{RACE}.steps")
    before = state(page, f"{RACE}.racers.map(r => [r.x[r.n - 1], r.y[r.n - 1], r.n])")
    work = state(page, f"{RACE}.racers.map(r => r.work[r.n - 1])")
    assert work == [row[2] - 1 for row in before]  # one gradient a step
    assert state(page, f"{SHARED}.racers[1].sam_rho") is None

    loaded = state(page, f"{RACE}.loadedAt")
    box = page.locator(control("racer-sam", 1))
    assert box.input_value() == ""  # off
    box.fill("0.05")
    box.press("Enter")
    page.wait_for_function(
        f"t => {RACE}.loadedAt > t && {RACE}.racers[1].work[{RACE}.racers[1].n - 1] "
        f"=== 2 * ({RACE}.racers[1].n - 1)",
        arg=loaded,
    )
    assert page.locator(control("racer-error", 1)).inner_text() == ""
    after = state(page, f"{RACE}.racers.map(r => [r.x[r.n - 1], r.y[r.n - 1], r.n])")
    assert after[1] != before[1]  # SAM moved racer 1
    assert [after[i] for i in (0, 2, 3)] == [before[i] for i in (0, 2, 3)]
    assert state(page, f"{SHARED}.racers[1].sam_rho") == 0.05
    # On the work clock racer 1's curve ends at twice its steps; the others at their steps.
    page.locator("#loss-axis input[value='work']").check()
    title = "document.querySelector('#loss-graph .xtitle').textContent"
    page.wait_for_function(f"() => {title} === 'work (gradient evaluations)'")
    ends = state(page, LOSS_ENDS)
    n = [row[2] - 1 for row in after]
    assert ends == [n[0], 2 * n[1], n[2], n[3]]
    assert n[1] == steps or state(page, f"{RACE}.racers[1].diverged_at")

    # Emptied: the racer it was, one gradient a step.
    loaded = state(page, f"{RACE}.loadedAt")
    box.fill("")
    box.press("Enter")
    page.wait_for_function(
        f"t => {RACE}.loadedAt > t && {RACE}.racers[1].work[{RACE}.racers[1].n - 1] "
        f"=== {RACE}.racers[1].n - 1",
        arg=loaded,
    )
    assert state(page, f"{RACE}.racers.map(r => [r.x[r.n - 1], r.y[r.n - 1], r.n])") == before
    assert state(page, f"{SHARED}.racers[1].sam_rho") is None
