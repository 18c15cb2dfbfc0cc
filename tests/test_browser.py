"""The page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layouts.controls import MAX_PAGE_RACERS
from tests.conftest import IN_CI
from tests.dash_requests import opening_controls, race_body
from tests.live import RACE, READY, control, open_tab, state

RESOURCES = "performance.getEntriesByType('resource').map(e => e.name)"
VENDORED = Path(__file__).resolve().parent.parent / "assets" / "vendor" / "plotly-cartesian.min.js"


def test_page_loads_without_console_errors(page):
    assert page.problems == []
    plotly = [u for u in state(page, RESOURCES) if "plotly" in u]
    if IN_CI or VENDORED.exists():  # make installs the cartesian bundle (vendor-plotly.sh)
        assert len(plotly) == 1 and "vendor/plotly-cartesian.min.js" in plotly[0], plotly
    assert state(page, f"{RACE}.heads.length") == 4
    assert page.locator("#leaderboard tbody tr").count() == 4
    assert page.locator(".racer-card").count() == 4
    for id_ in (
        "surface-select",
        "race-graph",
        "loss-graph",
        "lr-graph",
        "play-button",
        "step-slider",
        "speed-select",
        "leaderboard",
        "add-racer",
        "steps-input",
    ):
        assert page.locator(f"#{id_}").count() == 1, id_


def test_changing_a_rate_changes_that_path(page):
    end = "(r => [r.x[r.n - 1], r.y[r.n - 1]])"
    before = [state(page, f"{end}({RACE}.racers[{i}])") for i in range(4)]
    box = page.locator(control("racer-lr", 0))
    box.fill("0.0015")
    box.press("Enter")
    page.wait_for_function(f"() => {end}({RACE}.racers[0])[0] !== {before[0][0]}")
    after = [state(page, f"{end}({RACE}.racers[{i}])") for i in range(4)]
    assert after[0] != before[0]
    assert after[1:] == before[1:]
    assert page.problems == []


def test_a_new_race_on_the_same_map_redraws_the_paths_not_the_map(page):
    # The map's Plotly figure holds the surface and the start; the paths are on the canvas.
    # A figure handed to Plotly replaces its data array: the mark goes with the old one.
    figure_kept = "() => document.querySelector('#race-graph .js-plotly-plot').data.kept === 1"
    page.evaluate("() => { document.querySelector('#race-graph .js-plotly-plot').data.kept = 1; }")
    loaded = state(page, f"{RACE}.loadedAt")
    box = page.locator(control("racer-lr", 0))
    box.fill("0.0015")
    box.press("Enter")
    page.wait_for_function(
        f"t => {RACE}.loadedAt > t && {RACE}.drawnAt > {RACE}.loadedAt && {RACE}.idle()",
        arg=loaded,
    )
    # The head drawn on the canvas is the new path's, at the playback step.
    racer = state(page, f"(r => [r.x[r.n - 1], r.y[r.n - 1], r.n])({RACE}.racers[0])")
    page.evaluate(f"() => window.dash_clientside.set_props('step-slider', {{value: {RACE}.steps}})")
    page.wait_for_function(f"() => {RACE}.rendered === {RACE}.steps")
    head = state(page, f"{RACE}.heads.find(h => h.index === 0)")
    assert [head["x"], head["y"]] == pytest.approx(racer[:2], rel=1e-6)
    assert state(page, f"({figure_kept})()")
    # A new start moves the start marker: the map is drawn again.
    click_map(page, (0.5, -0.5))
    page.wait_for_function(f"() => !({figure_kept})()")
    marker = state(
        page,
        "document.querySelector('#race-graph .js-plotly-plot').data"
        ".filter(t => t.name === 'start').map(t => [t.x[0], t.y[0]])",
    )
    assert marker == [state(page, f"{RACE}.race.start")]
    assert page.problems == []


def test_play_moves_the_heads_and_makes_no_request(page):
    start = state(page, f"{RACE}.heads.map(h => [h.x, h.y])")
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.click("#play-button")
    page.wait_for_function(f"() => {RACE}.step >= 120")
    page.click("#play-button")
    page.wait_for_function(f"() => !{RACE}.playing")
    moved = state(page, f"{RACE}.heads.map(h => [h.x, h.y])")
    assert requests == []
    assert all(m != s for m, s in zip(moved, start, strict=True))


def cursors(page):
    return state(
        page,
        f"[{RACE}.step, {RACE}.cursors['loss-graph'], {RACE}.cursors['lr-graph'],"
        f" {RACE}.heads[0].step, document.querySelector('#loss-graph .race-cursor').style.left]",
    )


def test_scrubber_and_arrow_keys_move_every_cursor(page):
    track = page.locator("#step-slider .dash-slider-track")
    box = track.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.wait_for_function(f"() => {RACE}.step > 300")
    step, loss_cursor, lr_cursor, head_step, left = cursors(page)
    assert 300 < step < 700
    assert loss_cursor == lr_cursor == head_step == step
    page.locator("#race-graph").hover()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => {RACE}.step === {step + 1}")
    assert cursors(page)[:4] == [step + 1] * 4
    assert cursors(page)[4] != left
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => {RACE}.step === {step - 1}")
    assert cursors(page)[:4] == [step - 1] * 4
    assert page.inner_text("#step-label") == f"step {step - 1} / 1000"


def click_map(page, target: tuple[float, float]) -> None:
    where = state(
        page,
        "(() => { const gd = document.querySelector('#race-graph .js-plotly-plot');"
        " const fl = gd._fullLayout, box = gd.getBoundingClientRect();"
        f" return [box.left + fl.xaxis._offset + fl.xaxis.l2p({target[0]}),"
        f" box.top + fl.yaxis._offset + fl.yaxis.l2p({target[1]})]; }})()",
    )
    page.mouse.click(*where)


def test_a_click_on_the_map_moves_the_start(page):
    target = (0.5, -0.5)
    click_map(page, target)
    page.wait_for_function(f"() => {RACE}.race.start[1] < 0")
    x, y = state(page, f"{RACE}.race.start")
    assert abs(x - target[0]) < 0.05 and abs(y - target[1]) < 0.05
    page.wait_for_function(f"() => {RACE}.heads.every(h => h.y < 0)")
    heads = state(page, f"{RACE}.heads")
    assert all(abs(h["x"] - x) < 1e-6 and abs(h["y"] - y) < 1e-6 for h in heads)


def test_space_toggles_playback(page):
    page.locator("#race-graph").hover()
    page.keyboard.press("Space")
    page.wait_for_function(f"() => {RACE}.playing && {RACE}.step > 5")
    assert "Pause" in page.inner_text("#play-button")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => !{RACE}.playing")
    assert "Play" in page.inner_text("#play-button")


def test_adding_and_removing_a_racer(page):
    page.click("#add-racer")
    page.wait_for_function(f"() => {RACE}.racers.length === 5")
    assert page.locator(".racer-card").count() == 5
    added = state(page, f"{RACE}.racers[4]")
    assert added["index"] == 4 and added["n"] > 1
    page.click(control("racer-remove", 1))
    page.wait_for_function(f"() => {RACE}.racers.length === 4")
    assert state(page, f"{RACE}.racers.map(r => r.index)") == [0, 2, 3, 4]
    assert page.locator("#leaderboard tbody tr").count() == 4
    assert page.problems == []


def test_the_add_button_says_when_the_page_is_full(page):
    for count in range(5, MAX_PAGE_RACERS + 1):
        page.click("#add-racer")
        page.wait_for_function(f"n => {RACE}.racers.length === n", arg=count)
    add = page.locator("#add-racer")
    assert add.is_disabled() and f"{MAX_PAGE_RACERS} racers" in add.inner_text()
    page.click(control("racer-remove", 0))
    page.wait_for_function(f"n => {RACE}.racers.length === n", arg=MAX_PAGE_RACERS - 1)
    assert add.is_enabled() and add.inner_text() == "+ Add racer"
    assert page.problems == []


@pytest.mark.parametrize(
    ("forge", "where", "words"),
    [
        ({"racer": {"lr": 1e9}}, '{"index":0,"type":"racer-error"}', ["learning rate", "(0, 10]"]),
        ({"steps": "x"}, "settings-error", ["steps", "number"]),
        ({"racer": {"optimizer": "rm -rf"}}, '{"index":0,"type":"racer-error"}', ["unknown"]),
    ],
)
def test_forged_posts_get_clear_errors_and_the_page_keeps_working(page, live, forge, where, words):
    racers = opening_controls()
    racers[0].update(forge.get("racer", {}))
    client = live[1].server.test_client()
    body = race_body(client, racers, steps=forge.get("steps", 1000))
    answer = page.evaluate(
        "async body => { const r = await fetch('/_dash-update-component', {method: 'POST',"
        " headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});"
        " return [r.status, await r.text()]; }",
        body,
    )
    status, text = answer
    assert status == 200 and "Traceback" not in text
    message = json.loads(text)["response"][where]["children"]
    for word in words:
        assert word in message
    page.click("#play-button")
    page.wait_for_function(f"() => {RACE}.step >= 30")
    page.click("#play-button")
    assert page.problems == []


def test_screenshot_for_the_readme(page, tmp_path):
    """The README's picture is taken here (``make screenshot`` keeps it)."""
    page.evaluate(f"() => {{ {RACE}.speed = 16; }}")
    page.click("#play-button")
    page.wait_for_function(f"() => {RACE}.step >= 450")
    page.click("#play-button")
    shot = tmp_path / "screenshot.png"
    page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    if os.environ.get("UPDATE_SCREENSHOT"):
        target = Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)


def test_a_new_race_keeps_the_users_zoom(page):
    ranges = "document.querySelector('#race-graph .js-plotly-plot').layout.xaxis.range"
    box = page.locator("#race-graph .nsewdrag").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    page.mouse.wheel(0, -400)  # a user's scroll zoom
    page.wait_for_function(f"() => {ranges}[0] > -1.9")
    zoom = state(page, ranges)
    loaded = state(page, f"{RACE}.loadedAt")
    box = page.locator(control("racer-lr", 2))
    box.fill("0.004")
    box.press("Enter")
    page.wait_for_function(
        f"t => {RACE}.loadedAt > t && {RACE}.drawnAt > {RACE}.loadedAt", arg=loaded
    )
    page.click("#play-button")
    page.wait_for_function(f"() => {RACE}.step > 20")
    page.click("#play-button")
    kept = state(page, "document.querySelector('#race-graph .js-plotly-plot').layout.xaxis.range")
    assert kept == zoom


def test_switching_the_surface_brings_its_parameters_and_start(page):
    page.click("#surface-select")
    page.get_by_text("Ill-conditioned quadratic", exact=True).click()
    page.wait_for_function(f"() => {RACE}.surface.name === 'quadratic' && {RACE}.heads.length")
    names = page.locator("#surface-params .param-name").all_inner_texts()
    assert names == ["a", "b", "angle"]
    start = state(page, f"{RACE}.race.start")
    assert start != [-1.5, 2.0]
    assert page.locator("#surface-error").inner_text() == ""


def test_hiding_a_racer_takes_it_off_the_map_and_the_board(page):
    page.locator(control("racer-visible", 3)).get_by_role("checkbox").uncheck()
    page.wait_for_function(f"() => {RACE}.heads.length === 3")
    assert sorted(h["index"] for h in state(page, f"{RACE}.heads")) == [0, 1, 2]
    assert page.locator("#leaderboard tbody tr").count() == 3


def test_a_lesson_link_opens_its_race_and_caption(browser, live):
    context, tab = open_tab(browser, live[0])
    tab.click("#lesson-caption >> xpath=..", trial=True)
    tab.click("details.lessons summary") if not tab.locator(
        "details.lessons[open]"
    ).count() else None
    tab.click("text=Warmup saves a large rate")
    tab.wait_for_url("**?lesson=warmup*")
    tab.wait_for_function(READY)
    from lessons import LESSONS

    assert LESSONS["warmup"].beats[0].caption in tab.inner_text("#lesson-caption")
    racers = state(tab, f"{RACE}.racers.map(r => [r.label, r.diverged_at])")
    assert len(racers) == 2
    assert racers[0][1] is not None and racers[1][1] is None  # constant blows up, warmup not
    assert tab.locator(".racer-card").count() == 2
    context.close()
