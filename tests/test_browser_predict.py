"""Predict first in a real headless Chromium: a lesson's question hides every result that gives
its answer away (the ranking's values and order, the steps to tolerance, the charts, the beat's
caption, the trails ahead of the step) until Reveal or the beat's end, then marks the answer."""

from __future__ import annotations

import os

import pytest

from tests.live import RACE, open_tab, state
from tests.test_accessibility import audit

# Momentum in a ravine, beat 2: "SGD leads at step 25. Which racer reaches the tolerance
# first?" (racer 1, Momentum). The beat opens at step 25 and plays to the end (300).
LESSON = "/?lesson=ravine&beat=2"
ASKED = f"() => {RACE}.predicting && document.querySelectorAll('.predict-choice').length === 2"
PRESENT = {"width": 1024, "height": 768}
WIDE = {"width": 1280, "height": 720}
SHOTS = os.environ.get("PREDICT_SHOTS")  # a folder for the screenshots of the held race

# What the ranking shows at the current step, as it formats it: each racer's value now, its
# final and best loss and its steps to tolerance. Those of them found in the page's text.
RESULTS_IN_TEXT = f"""(() => {{
  const R = {RACE}, text = document.body.innerText, k = R.step;
  const values = R.racers.flatMap(r => [
    R.fmt(r.loss[Math.min(k, r.n - 1)]), R.fmt(r.final_loss), R.fmt(r.best_loss),
    r.steps_to_tol === null ? '' : String(r.steps_to_tol)]);
  return values.filter(v => v.length > 1 && text.includes(v));
}})()"""

# Points of the racers' paths after step k that lie well away (> 20 px) from every segment
# drawn up to k: where the map's canvas would show a trail ahead of the step. As pixels.
AHEAD = f"""((k) => {{
  const R = {RACE}, gd = document.querySelector('#race-graph .js-plotly-plot');
  const canvas = gd.parentElement.querySelector('canvas.race-overlay');
  const xr = gd._fullLayout.xaxis.range, yr = gd._fullLayout.yaxis.range;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  const px = (r, i) => [(r.x[i] - xr[0]) / (xr[1] - xr[0]) * w,
                        (yr[1] - r.y[i]) / (yr[1] - yr[0]) * h];
  const drawn = [];
  R.racers.forEach(r => {{
    for (let i = 1; i <= Math.min(k, r.n - 1); i++) drawn.push([px(r, i - 1), px(r, i)]);
  }});
  const away = (p) => drawn.every(([a, b]) => {{
    const dx = b[0] - a[0], dy = b[1] - a[1], len = dx * dx + dy * dy;
    const t = len ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len)) : 0;
    return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy) > 20;
  }});
  const out = [];
  R.racers.forEach(r => {{
    for (let i = k + 1; i < r.n; i++) {{
      const p = px(r, i);
      if (p[0] > 2 && p[1] > 2 && p[0] < w - 2 && p[1] < h - 2 && away(p)) out.push(p);
    }}
  }});
  return out;
}})"""

# How many of the given pixels the map's canvas has painted.
PAINTED = """(points) => {
  const canvas = document.querySelector('#race-graph canvas.race-overlay');
  const ratio = canvas.width / canvas.clientWidth, ctx = canvas.getContext('2d');
  return points.filter(([x, y]) =>
    ctx.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data[3] > 0).length;
}"""


def open_question(browser, url, **context):
    ctx, tab = open_tab(browser, url, **context)
    tab.wait_for_function(ASKED)
    tab.wait_for_function(f"() => {RACE}.step === 25")
    return ctx, tab


def shown(tab, selector: str) -> bool:
    return state(
        tab, f"getComputedStyle(document.querySelector('{selector}')).visibility === 'visible'"
    )


def test_the_question_hides_every_result_until_reveal(browser, live):
    context, tab = open_question(browser, live[0] + LESSON)
    caption = tab.text_content(".beat-caption")
    assert "step 95" in caption  # the caption gives the answer away …
    assert caption not in tab.inner_text("body")  # … and is not shown
    assert not tab.locator(".beat-caption").is_visible()
    assert state(tab, RESULTS_IN_TEXT) == []
    # The ranking in the page's order, with neither rank nor value nor steps to tolerance.
    assert tab.locator("#leaderboard td.rank").count() == 0
    assert tab.locator("#leaderboard .col-status").count() == 0
    rows = state(
        tab,
        "[...document.querySelectorAll('#leaderboard tr[data-racer]')].map(r => r.dataset.racer)",
    )
    assert rows == state(tab, f"{RACE}.racers.map(r => String(r.index))")
    assert not shown(tab, "#loss-graph") and not shown(tab, "#lr-graph")
    # No trail ahead of the step: the map's canvas is blank where the paths go next.
    ahead = tab.evaluate(AHEAD, state(tab, f"{RACE}.step"))
    assert len(ahead) >= 5
    assert tab.evaluate(PAINTED, ahead) == 0

    tab.click(".predict-choice[data-racer='0']")  # SGD: the wrong answer
    assert tab.get_attribute(".predict-choice[data-racer='0']", "aria-pressed") == "true"
    assert state(tab, f"{RACE}.predicting")  # choosing alone reveals nothing
    tab.click(".predict-reveal")
    tab.wait_for_function(f"() => !{RACE}.predicting")
    verdict = tab.locator(".predict-verdict")
    assert verdict.get_attribute("aria-live") == "polite"
    assert verdict.inner_text() == (
        "Not this time: you chose SGD (lr 0.035); the answer is Momentum (lr 0.01)."
    )
    assert "right" in tab.get_attribute(".predict-choice[data-racer='1']", "class")
    # Everything is back: the ranking's values, ranks and steps to tolerance, the charts, the
    # caption.
    tab.wait_for_function("() => document.querySelectorAll('#leaderboard td.rank').length === 2")
    found = state(tab, RESULTS_IN_TEXT)
    assert {"95", "185"} <= set(found) and len(found) >= 6
    assert shown(tab, "#loss-graph") and shown(tab, "#lr-graph")
    assert tab.locator(".beat-caption").is_visible()
    assert tab.problems == []
    context.close()


def test_playing_to_the_end_reveals_and_marks_a_right_answer(browser, live):
    context, tab = open_question(browser, live[0] + LESSON)
    asked_at = state(tab, f"{RACE}.step")
    tab.click(".predict-choice[data-racer='1']")  # Momentum
    tab.evaluate(f"() => {{ {RACE}.speed = 16; }}")
    tab.click("#play-button")
    tab.wait_for_function(f"() => {RACE}.step === {RACE}.steps && !{RACE}.playing")
    tab.wait_for_function(f"() => !{RACE}.predicting")
    assert tab.inner_text(".predict-verdict") == "Right: Momentum (lr 0.01)."
    assert state(tab, RESULTS_IN_TEXT) != []
    assert shown(tab, "#loss-graph")
    # The map now draws the paths whole: where they go after the step the question was asked
    # at is painted (the revealed caption may have resized the map: its pixels are taken
    # now; the canvas is redrawn on a frame of its own).
    tab.wait_for_function(
        f"k => {{ const a = ({AHEAD})(k); return a.length > 0 && ({PAINTED})(a) > a.length / 2; }}",
        arg=asked_at,
    )
    assert tab.problems == []
    context.close()


def test_playing_part_way_keeps_it_hidden(browser, live):
    context, tab = open_question(browser, live[0] + LESSON)
    tab.click("#step-forward")
    tab.wait_for_function(f"() => {RACE}.step === 26")
    tab.evaluate(f"() => {{ {RACE}.speed = 0.25; }}")  # far from the end when paused
    tab.click("#play-button")
    tab.wait_for_function(f"() => {RACE}.playing && {RACE}.step > 30")
    tab.click("#play-button")  # paused half-way
    tab.wait_for_function(f"() => !{RACE}.playing")
    assert state(tab, f"{RACE}.predicting")
    assert state(tab, RESULTS_IN_TEXT) == []
    assert tab.evaluate(PAINTED, tab.evaluate(AHEAD, state(tab, f"{RACE}.step"))) == 0
    context.close()


def test_predict_first_turns_off_and_stays_off_in_the_tab(browser, live):
    context, tab = open_question(browser, live[0] + LESSON)
    toggle = ".predict-toggle"
    assert tab.get_attribute(toggle, "aria-pressed") == "true"  # on where a beat asks
    tab.click(toggle)
    tab.wait_for_function(f"() => !{RACE}.predicting")
    assert tab.get_attribute(toggle, "aria-pressed") == "false"
    assert not tab.locator(".predict-question").is_visible()
    assert tab.locator(".beat-caption").is_visible()
    assert state(tab, RESULTS_IN_TEXT) != []
    assert tab.inner_text(".predict-verdict") == ""
    tab.reload()
    tab.wait_for_function(f"() => {RACE}.heads.length > 0 && {RACE}.step === 25")
    tab.wait_for_selector(toggle)
    assert tab.get_attribute(toggle, "aria-pressed") == "false"
    assert not state(tab, f"{RACE}.predicting")
    tab.click(toggle)  # on again: asked afresh
    tab.wait_for_function(f"() => {RACE}.predicting")
    assert state(tab, RESULTS_IN_TEXT) == []
    assert tab.locator(".predict-choice[aria-pressed='true']").count() == 0
    context.close()


def test_a_beat_without_a_question_shows_its_results(browser, live):
    context, tab = open_tab(browser, live[0] + "/?lesson=ravine&beat=1")
    assert tab.locator(".predict").count() == 0
    assert not state(tab, f"{RACE}.predicting")
    assert tab.locator("#leaderboard td.rank").count() == 2
    context.close()


def test_in_present_the_question_fits_on_screen_with_the_map(browser, live):
    context, tab = open_question(browser, live[0] + LESSON + "&present=1", viewport=PRESENT)
    assert state(tab, "document.documentElement.classList.contains('presenting')")
    for button in tab.locator(".predict-choice, .predict-reveal, .predict-toggle").all():
        box = button.bounding_box()
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= PRESENT["width"]
        assert box["y"] + box["height"] <= PRESENT["height"]
        assert box["height"] >= 30  # large enough to hit from a lectern
    map_box = tab.locator("#race-graph").bounding_box()
    assert map_box["height"] >= 300 and map_box["y"] + map_box["height"] <= PRESENT["height"]
    assert state(tab, RESULTS_IN_TEXT) == []
    assert audit(tab) == []
    # From the keyboard: Tab to a choice, Enter, then Reveal.
    tab.focus(".predict-choice[data-racer='1']")
    tab.keyboard.press("Enter")
    tab.focus(".predict-reveal")
    tab.keyboard.press("Enter")
    tab.wait_for_function(f"() => !{RACE}.predicting")
    assert tab.inner_text(".predict-verdict") == "Right: Momentum (lr 0.01)."
    assert audit(tab) == []
    assert tab.problems == []
    context.close()


def test_the_question_passes_the_audit(browser, live):
    context, tab = open_question(browser, live[0] + LESSON)
    assert audit(tab) == []
    context.close()


# Every click the Play button hears, counted in the page: a key that plays clicks it at once,
# within the key's own press (assets/playback.js, assets/lesson.js).
COUNT_PLAYS = """() => {
  window.playClicks = 0;
  document.getElementById('play-button').addEventListener('click', () => window.playClicks++);
}"""
REVEAL_FOCUSED = "() => document.activeElement === document.querySelector('.predict-reveal')"


@pytest.mark.parametrize(
    ("key", "size"),
    [("PageDown", PRESENT), ("Space", PRESENT), ("PageDown", WIDE), ("ArrowRight", WIDE)],
)
def test_in_present_the_clicker_does_not_play_the_race_while_the_question_is_open(
    browser, live, key, size
):
    """Issue 25 (session 13): PageDown on a "Predict first" beat played the race while the
    question was up, and the map showed the winner before the class voted. The first press now
    brings Reveal forward; only the next reveals (and plays the beat)."""
    context, tab = open_question(browser, live[0] + LESSON + "&present=1", viewport=size)
    tab.wait_for_function(f"() => {RACE}.presenting && {RACE}.idle()")
    tab.evaluate(COUNT_PLAYS)
    ahead = tab.evaluate(AHEAD, 25)
    tab.keyboard.press(key)
    assert state(tab, "window.playClicks") == 0  # nothing played
    tab.wait_for_function(REVEAL_FOCUSED)
    assert state(tab, f"{RACE}.step") == 25 and not state(tab, f"{RACE}.playing")
    assert state(tab, f"{RACE}.predicting")
    assert tab.evaluate(PAINTED, ahead) == 0  # the map shows no trail past the question's step
    assert state(tab, RESULTS_IN_TEXT) == []
    # Reveal is brought forward, and the page says what the next press does.
    cue = tab.locator(".predict-cue")
    assert cue.is_visible() and cue.inner_text() == "Press again to reveal"
    outline = tab.locator(".predict-reveal").evaluate("b => getComputedStyle(b).outlineWidth")
    assert float(outline.removesuffix("px")) >= 3
    for box in (cue.bounding_box(), tab.locator(".predict-reveal").bounding_box()):
        assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"]
        assert box["x"] + box["width"] <= size["width"]
    assert audit(tab) == []
    if SHOTS:
        tab.screenshot(path=f"{SHOTS}/predict-held-{key}-{size['width']}x{size['height']}.png")
    # The next press reveals and plays the beat on.
    tab.evaluate(f"() => {{ {RACE}.speed = 16; }}")
    tab.keyboard.press(key)
    tab.wait_for_function(f"() => !{RACE}.predicting")
    tab.wait_for_function(f"() => !{RACE}.playing && {RACE}.step === {RACE}.steps")
    assert tab.inner_text(".predict-verdict") == "The answer: Momentum (lr 0.01)."
    assert not cue.is_visible()
    assert tab.problems == []
    context.close()


def test_choosing_with_the_mouse_then_the_clicker_still_holds_the_race(browser, live):
    """A choice clicked (the focus on its button), then PageDown: the race is still held."""
    context, tab = open_question(browser, live[0] + LESSON + "&present=1", viewport=PRESENT)
    tab.evaluate(COUNT_PLAYS)
    tab.click(".predict-choice[data-racer='1']")
    tab.keyboard.press("PageDown")
    assert state(tab, "window.playClicks") == 0
    tab.wait_for_function(REVEAL_FOCUSED)
    assert state(tab, f"{RACE}.predicting") and state(tab, f"{RACE}.step") == 25
    # Space on the focused Reveal is Reveal's own: it reveals, the choice is marked right.
    tab.keyboard.press("Space")
    tab.wait_for_function(f"() => !{RACE}.predicting")
    assert tab.inner_text(".predict-verdict") == "Right: Momentum (lr 0.01)."
    context.close()


# The ranking's cells shown on the screen, by racer and by column header ("steps to tol",
# "work to tol", "final loss", "best loss"): what the class can read.
RANKING_CELLS = """() => {
  const table = document.querySelector('#leaderboard table:not(.masked)');
  if (!table) return null;
  const heads = [...table.tHead.rows[0].cells].map(c => c.innerText.replace(/\\s+/g, ' ').trim());
  const out = {};
  [...table.tBodies[0].rows].forEach(tr => {
    const row = {};
    [...tr.cells].forEach((td, i) => {
      if (td.getClientRects().length) row[heads[i]] = td.innerText.trim();
    });
    out[tr.dataset.racer] = row;
  });
  return out;
}"""
# Each racer's whole-race figures as the ranking would format them.
WHOLE_RACE = f"""() => Object.fromEntries({RACE}.racers.map(r => [String(r.index), {{
  'steps to tol': r.steps_to_tol === null ? null : String(r.steps_to_tol),
  'final loss': {RACE}.fmt(r.final_loss), 'best loss': {RACE}.fmt(r.best_loss),
  'reached': r.steps_to_tol}}]))"""
LAPTOP = {"width": 1400, "height": 900}


def whole_race_shown(tab) -> list[str]:
    """The whole-race figures (steps to tol, final and best loss) the ranking shows now, as
    "racer:column"."""
    cells, whole = tab.evaluate(RANKING_CELLS), tab.evaluate(WHOLE_RACE)
    assert cells, "the ranking is not on the page"
    return [
        f"{racer}:{column}"
        for racer, row in cells.items()
        for column in ("steps to tol", "final loss", "best loss")
        if whole[racer][column] is not None and row.get(column) == whole[racer][column]
    ]


@pytest.mark.parametrize(("size", "present"), [(PRESENT, "&present=1"), (LAPTOP, "")])
def test_a_beat_before_the_question_does_not_give_its_answer(browser, live, size, present):
    """Issue 25 (session 13, round 2): ravine's beat 1 showed "steps to tol: SGD 185,
    Momentum 95" at step 0, one beat before beat 2 asks which reaches the tolerance first.
    Before the question's beat, the ranking's whole-race figures show only once the playhead
    has reached them: a racer's steps to tol at that step, the final and best loss at its end."""
    context, tab = open_tab(browser, live[0] + "/?lesson=ravine&beat=1" + present, viewport=size)
    cells = tab.evaluate(RANKING_CELLS)
    assert all("steps to tol" in row for row in cells.values())  # the column is on the screen
    if not present:
        assert all("final loss" in row for row in cells.values())
    assert whole_race_shown(tab) == []
    assert "185" not in tab.inner_text("#leaderboard")
    assert " 95" not in " " + tab.inner_text("#leaderboard").replace("\n", " ")
    if SHOTS:
        tab.screenshot(path=f"{SHOTS}/beat1-open-{size['width']}x{size['height']}.png")
    # Played to the beat's step (25): neither has reached the tolerance yet.
    tab.click(".beat-play")
    tab.wait_for_function(f"() => {RACE}.step === 25 && !{RACE}.playing")
    assert whole_race_shown(tab) == []
    # At step 100 Momentum has reached it (step 95) and shows it; SGD (185) does not yet.
    tab.evaluate("() => window.dash_clientside.set_props('step-slider', {value: 100})")
    tab.wait_for_function(f"() => {RACE}.step === 100 && {RACE}.idle()")
    assert whole_race_shown(tab) == ["1:steps to tol"]
    # Back to step 50: hidden again.
    tab.evaluate("() => window.dash_clientside.set_props('step-slider', {value: 50})")
    tab.wait_for_function(f"() => {RACE}.step === 50 && {RACE}.idle()")
    assert whole_race_shown(tab) == []
    # At the race's end every figure is there.
    tab.evaluate(f"() => window.dash_clientside.set_props('step-slider', {{value: {RACE}.steps}})")
    tab.wait_for_function(f"() => {RACE}.step === {RACE}.steps && {RACE}.idle()")
    on_screen = {
        f"{racer}:{column}"
        for racer, row in tab.evaluate(RANKING_CELLS).items()
        for column in ("steps to tol", "final loss", "best loss")
        if column in row
    }
    assert {"0:steps to tol", "1:steps to tol"} <= on_screen
    assert present or {"0:final loss", "1:final loss"} <= on_screen
    assert set(whole_race_shown(tab)) == on_screen
    if SHOTS:
        tab.screenshot(path=f"{SHOTS}/beat1-end-{size['width']}x{size['height']}.png")
    assert tab.problems == []
    context.close()
