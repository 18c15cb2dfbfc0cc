"""A newcomer's first ten seconds on a laptop (issue 25, item 16): what the race is, in one
line, and who is who at the start, read from what the page shows in Debian's Chromium."""

from __future__ import annotations

from tests.live import RACE, race_link, state

LAPTOP = {"width": 1400, "height": 900}


def test_the_first_screen_says_what_the_race_is_in_one_line(tabs):
    tab = tabs("/", viewport=LAPTOP)
    line = tab.locator("header .subtitle")
    box = line.bounding_box()
    assert line.is_visible() and box["y"] + box["height"] <= LAPTOP["height"]
    text = line.inner_text()
    assert "start" in text and "lowest" in text and "f − f*" in text and "f*." in text
    assert box["height"] < 2 * float(
        tab.eval_on_selector("header .subtitle", "e => parseFloat(getComputedStyle(e).lineHeight)")
    )  # one line
    # The ranking's "f − f*" says what it is where it is read.
    head = tab.locator("#leaderboard thead abbr")
    assert head.inner_text() == "f − f*" and "lowest value" in head.get_attribute("title")


def test_at_step_0_every_racer_shows_on_the_map(tabs):
    # Every racer stands on one start at step 0: the map showed one marker (the last drawn).
    tab = tabs("/", viewport=LAPTOP)
    assert state(tab, f"{RACE}.step") == 0
    heads = state(tab, f"{RACE}.heads.map(h => [h.x, h.y])")
    assert len({tuple(h) for h in heads}) == 1  # one spot
    drawn = state(tab, f"{RACE}.drawnHeads")
    assert len(drawn) == 4
    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            assert ((a["px"] - b["px"]) ** 2 + (a["py"] - b["py"]) ** 2) ** 0.5 >= 15
    # Each marker's centre on the canvas is its racer's colour: four colours, all seen.
    seen = tab.evaluate(
        """() => {
          const c = document.querySelector('#race-graph canvas.race-overlay');
          const ratio = c.width / c.getBoundingClientRect().width;
          const ctx = c.getContext('2d');
          return window.optimizerRace.drawnHeads.map(h => {
            const d = ctx.getImageData(Math.round(h.px * ratio), Math.round(h.py * ratio), 1, 1)
              .data;
            return '#' + [d[0], d[1], d[2]].map(v => v.toString(16).padStart(2, '0')).join('');
          });
        }"""
    )
    colours = state(tab, f"{RACE}.racers.map(r => r.color.toLowerCase())")
    assert seen == colours
    # Once they part, each marker is drawn where its racer is.
    tab.evaluate("() => window.dash_clientside.set_props('step-slider', {value: 200})")
    tab.wait_for_function(f"() => {RACE}.rendered === 200 && {RACE}.idle()")
    moved = state(tab, f"{RACE}.drawnHeads")
    assert len({(round(h["px"]), round(h["py"])) for h in moved}) == 4


def test_racers_that_meet_after_the_start_are_drawn_where_they_are(tabs):
    """Only the start is fanned out: two racers alike, together at every step, are drawn on
    one spot once the race runs (fanned, the try-out read Momentum half a unit below the
    minimum it had reached)."""
    race = {
        "surface": {"name": "rosenbrock"},
        "steps": 100,
        "racers": [
            {"optimizer": "adam", "lr": 0.01},
            {"optimizer": "adam", "lr": 0.01, "label": "Adam again"},
        ],
    }
    tab = tabs(race_link(race), viewport=LAPTOP)
    at_start = state(tab, f"{RACE}.drawnHeads")
    assert (
        abs(at_start[0]["px"] - at_start[1]["px"]) + abs(at_start[0]["py"] - at_start[1]["py"])
        >= 15
    )
    for step in (1, 100):
        tab.evaluate(f"() => window.dash_clientside.set_props('step-slider', {{value: {step}}})")
        tab.wait_for_function(f"() => {RACE}.rendered === {step} && {RACE}.idle()")
        a, b = state(tab, f"{RACE}.drawnHeads")
        assert (a["px"], a["py"]) == (b["px"], b["py"])


def test_at_step_0_near_a_corner_every_racer_is_on_the_map(tabs):
    """A start near the map's corner (prodigy_rate's, (2, 1.5)) put the fanned-out markers
    off the map: a try-out saw Prodigy half cut and Adam gone, in Present and on a phone.
    They are fanned towards the map's middle there, each whole inside the plot."""
    for viewport, present in ((LAPTOP, ""), ({"width": 1024, "height": 768}, "&present=1")):
        tab = tabs(f"/?lesson=prodigy_rate&beat=1{present}", viewport=viewport)
        assert state(tab, f"{RACE}.step") == 0
        drawn = state(tab, f"{RACE}.drawnHeads")
        size = 30 if present else 15  # a marker's width (assets/playback.js, fanOut)
        width, height = state(
            tab,
            "(() => { const r = document.querySelector('#race-graph canvas.race-overlay')"
            ".getBoundingClientRect(); return [r.width, r.height]; })()",
        )
        assert len(drawn) == len(state(tab, f"{RACE}.racers"))
        for head in drawn:
            assert size / 2 - 0.5 <= head["px"] <= width - size / 2 + 0.5, (present, head)
            assert size / 2 - 0.5 <= head["py"] <= height - size / 2 + 0.5, (present, head)
        for i, a in enumerate(drawn):
            for b in drawn[i + 1 :]:
                assert ((a["px"] - b["px"]) ** 2 + (a["py"] - b["py"]) ** 2) ** 0.5 >= size / 2
