"""The curious user's laptop (1400×900), issue 25: eight racers in the side column, colours
through links, notes on methods whose results look broken, and the small wrongs (item 15).
Read from what the page shows, in Debian's Chromium."""

from __future__ import annotations

import re

import pytest

from layouts.method_notes import METHOD_NOTES
from optimizers.registry import OPTIMIZERS
from service.compact import COLORS
from tests.live import RACE, READY, control, race_link, state

LAPTOP = {"width": 1400, "height": 900}


def looks(tab) -> list[list[str]]:
    """Each card's index and colour, in page order, as the card, the map's key and the
    ranking's swatch show them."""
    return state(
        tab,
        "[...document.querySelectorAll('.racer-card')].map(card => {"
        " const i = JSON.parse(card.id).index;"
        " const key = document.querySelector(`#map-key li[data-racer='${i}'] svg`);"
        " const row = document.querySelector(`#leaderboard tr[data-racer='${i}'] svg`);"
        " return [i, getComputedStyle(card).borderLeftColor,"
        "  key.querySelector('line:not(.casing)').getAttribute('stroke'),"
        "  key.querySelector('path, circle').outerHTML, row.outerHTML === key.outerHTML]; })",
    )


def shared_address(tab) -> str:
    """The page's address once it describes the race on the page (the share link)."""
    tab.wait_for_function(
        f"() => new URLSearchParams(location.search).get('race') === {RACE}.race.share"
    )
    return state(tab, "location.pathname + location.search")


def test_a_share_link_keeps_each_racers_colour_and_marker(tabs):
    # Issue 25 item 12: racers that were orange and black reopened as blue and orange.
    tab = tabs("/", viewport=LAPTOP)
    for index, left in ((0, 3), (2, 2)):
        tab.click(control("racer-remove", index))
        tab.wait_for_function(f"n => {RACE}.racers.length === n", arg=left)
    before = looks(tab)
    assert [b[0] for b in before] == [1, 3]
    assert [b[2].upper() for b in before] == [COLORS[1], COLORS[3]]  # orange, black
    link = shared_address(tab)
    again = tabs(link, viewport=LAPTOP)
    assert looks(again) == before
    assert all(b[4] for b in before)  # the ranking's swatch is the key's
    # A reload of the reopened page (its own address) keeps them too.
    assert looks(tabs(shared_address(again), viewport=LAPTOP)) == before
    # So does the students' link (its QR code's address, built by the server from this one).
    answer = tab.evaluate(
        "() => fetch('/api/qr' + location.search, {headers: {Accept: 'application/json'}})"
        ".then(r => r.json())"
    )
    assert "slots=1.3" in answer["link"], answer


def test_a_link_made_before_slots_opens_in_the_usual_colours(tabs):
    race = {
        "surface": {"name": "rosenbrock"},
        "steps": 50,
        "racers": [{"optimizer": "adam", "lr": 0.01}, {"optimizer": "sgd", "lr": 1e-3}],
    }
    tab = tabs(race_link(race), viewport=LAPTOP)
    assert [[b[0], b[2].upper()] for b in looks(tab)] == [[0, COLORS[0]], [1, COLORS[1]]]
    # A link whose slots do not fit its race is read as an old link, not refused.
    odd = tabs(race_link(race, "&slots=5.5"), viewport=LAPTOP)
    assert [b[0] for b in looks(odd)] == [0, 1]


# Item 14: a result that looks broken says why, where it is the method's own doing.

NOTED_RACE = {
    "surface": {"name": "rosenbrock"},
    "steps": 1000,
    "racers": [
        {"optimizer": "lars", "lr": 1.0},
        {"optimizer": "shampoo", "lr": 1e-3},
        {"optimizer": "schedule_free_adamw", "lr": 0.0025},
        {"optimizer": "adam", "lr": 0.0025},
    ],
}


def test_every_method_note_is_of_a_registered_optimizer():
    assert METHOD_NOTES and set(METHOD_NOTES) <= set(OPTIMIZERS)


def test_the_method_notes_claims_hold_in_the_engine():
    import numpy as np

    from optimizers.race import run_race
    from optimizers.validate import validate_race

    racers = run_race(validate_race(NOTED_RACE)).racers
    length = [float(np.linalg.norm(np.diff(r.path, axis=0), axis=1).sum()) for r in racers]
    assert np.allclose(racers[0].path[-1], 0.0, atol=1e-3)  # LARS at rest at the origin
    assert 0.05 < length[1] < 0.2  # Shampoo: "about a tenth of a unit in 1,000 steps"
    assert 0.15 < length[2] < 0.4 < length[3]  # SF-AdamW: "a quarter", less than Adam's


def test_a_card_says_when_a_result_is_the_methods_own_doing(tabs):
    tab = tabs(race_link(NOTED_RACE), viewport=LAPTOP)
    # What looked broken: LARS at rest at the origin, Shampoo and SF-AdamW hardly moved.
    tab.evaluate("() => window.dash_clientside.set_props('step-slider', {value: 1000})")
    tab.wait_for_function(f"() => {RACE}.rendered === 1000 && {RACE}.idle()")
    heads = state(tab, f"{RACE}.heads.map(h => [h.x, h.y])")
    assert max(abs(v) for v in heads[0]) < 1e-3
    for index, name in enumerate(["lars", "shampoo", "schedule_free_adamw"]):
        note = tab.locator(f"{control('racer-card', index)} .method-note")
        assert note.inner_text() == METHOD_NOTES[name]
        assert note.is_visible()
    assert tab.locator(f"{control('racer-card', 3)} .method-note").count() == 0
    # A card changed to LARS says it too.
    tab.evaluate(
        f"() => window.dash_clientside.set_props({RACE}.partId('RACER_OPTIMIZER', 3),"
        " {value: 'lars'})"
    )
    tab.wait_for_selector(f"{control('racer-card', 3)} .method-note")
    assert tab.inner_text(f"{control('racer-card', 3)} .method-note") == METHOD_NOTES["lars"]


# Item 15: the small wrongs.


def test_lbfgs_stopping_is_said_in_words(tabs):
    race = {
        "surface": {"name": "rosenbrock"},
        "steps": 300,
        "racers": [{"optimizer": "lbfgs", "lr": 1}],
    }
    tab = tabs(race_link(race), viewport=LAPTOP)
    note = tab.locator("#leaderboard .stopped")
    assert re.fullmatch(r"stopped at step \d+ \((stalled|converged)\)", note.inner_text())
    assert "_" not in tab.inner_text("#leaderboard")


def test_f_minus_f_star_now_reads_0_beside_a_final_loss_of_0(tabs):
    race = {
        "surface": {"name": "quadratic"},
        "steps": 20,
        "racers": [{"optimizer": "newton", "lr": 1.0}, {"optimizer": "sgd", "lr": 0.01}],
    }
    tab = tabs(race_link(race), viewport=LAPTOP)
    tab.evaluate("() => window.dash_clientside.set_props('step-slider', {value: 20})")
    tab.wait_for_function(f"() => {RACE}.rendered === 20 && {RACE}.idle()")
    cells = state(
        tab,
        "[...document.querySelector(\"#leaderboard tr[data-racer='0']\").children]"
        ".map(td => td.textContent)",
    )
    assert cells[2] == cells[3] == "0", cells  # f − f* now, final loss
    assert "e-30" not in tab.inner_text("#leaderboard")


def inspected(tab, index: int) -> None:
    tab.select_option("#inspect-select", str(index))
    tab.wait_for_function(
        f"i => {RACE}.trace && {RACE}.trace.index === i"
        " && document.querySelector('#inspect-panel tr[data-name=\"step\"]')",
        arg=index,
    )


def test_the_inspector_leads_with_playbacks_step(tabs):
    race = {
        "surface": {"name": "rosenbrock"},
        "steps": 50,
        "racers": [{"optimizer": "adam", "lr": 0.1}],
    }
    tab = tabs(race_link(race, "&step=12"), viewport=LAPTOP)
    inspected(tab, 0)
    tab.wait_for_function(
        "() => /step 12 /.test(document.querySelector('#step-label').textContent)"
    )
    lead = tab.inner_text("#inspect-panel p")
    assert tab.inner_text("#inspect-panel .inspect-step") == "step 12"
    assert "step 12" in lead and "(from" not in lead


@pytest.mark.parametrize("group", range(3))
def test_the_inspector_names_every_row_in_words(tabs, group):
    names = list(OPTIMIZERS)[group * 8 : group * 8 + 8]
    race = {
        "surface": {"name": "rosenbrock"},
        "steps": 20,
        "racers": [{"optimizer": n, "lr": OPTIMIZERS[n].card.default_lr} for n in names],
    }
    tab = tabs(race_link(race), viewport=LAPTOP)  # step 0: a racer that diverges has a step
    for index, name in enumerate(names):
        inspected(tab, index)
        rows = state(
            tab,
            "[...document.querySelectorAll('#inspect-panel tr[data-name]')]"
            ".map(tr => [tr.dataset.name, tr.querySelector('th').textContent])",
        )
        raw = [row for row in rows if "_" in row[1] or row[1] == row[0]]
        assert raw == [], (name, raw)


def test_a_refusal_in_a_card_stands_under_its_box(tabs):
    tab = tabs("/", viewport=LAPTOP)
    box = control("racer-lr", 1)
    tab.fill(box, "20")
    tab.press(box, "Enter")
    error = control("racer-error", 1)
    tab.wait_for_function(
        "sel => document.querySelector(sel).textContent.startsWith('learning rate')", arg=error
    )
    tab.wait_for_function(
        "sel => document.querySelector(sel).closest('.racer-card')"
        ".classList.contains('error-near')",
        arg=control("racer-lr", 1),
    )
    card = control("racer-card", 1)
    rate_row = tab.locator(f"{card} .racer-lr").bounding_box()
    message = tab.locator(error).bounding_box()
    params = tab.locator(f"{card} .racer-params").first.bounding_box()
    assert tab.locator(error).is_visible()
    assert rate_row["y"] + rate_row["height"] <= message["y"] + 1
    assert message["y"] + message["height"] <= params["y"] + 1  # before the card's next row
    tab.fill(box, "0.001")
    tab.press(box, "Enter")
    tab.wait_for_function("sel => document.querySelector(sel).textContent === ''", arg=error)


STARTS = "?analysis=starts"


@pytest.mark.parametrize("typed", ["0", "-1", "3", "100000"])
def test_the_many_starts_count_refuses_in_red_naming_what_is_allowed(tabs, typed):
    tab = tabs("/" + STARTS, viewport=LAPTOP)
    tab.wait_for_selector("#starts-graph .js-plotly-plot")
    tab.fill("#starts-count", typed)
    tab.press("#starts-count", "Enter")
    tab.wait_for_function("() => document.querySelector('#starts-status').textContent !== ''")
    text = tab.inner_text("#starts-status")
    assert "from 4 to 256" in text and f"got {typed}" in text and "null" not in text
    assert tab.eval_on_selector("#starts-status", "e => getComputedStyle(e).color") == (
        tab.eval_on_selector("#settings-error", "e => getComputedStyle(e).color")
    )


def test_the_many_starts_chart_keeps_x_and_y_at_one_scale(tabs):
    tab = tabs("/" + STARTS, viewport=LAPTOP)
    tab.wait_for_function(
        "() => document.querySelectorAll('#starts-graph .scatterlayer .trace').length > 0"
    )
    x, y = (
        state(
            tab,
            "(() => { const a = document.querySelector('#starts-graph .js-plotly-plot')"
            f"._fullLayout.{axis}axis; return a._length / Math.abs(a.range[1] - a.range[0]); }})()",
        )
        for axis in "xy"
    )
    assert x == pytest.approx(y, rel=0.01)


# Item 11: eight racers on a laptop.

EIGHT = {
    "surface": {"name": "rosenbrock"},
    "steps": 300,
    "racers": [
        {"optimizer": name, "lr": lr}
        for name, lr in [
            ("sgd", 1e-3),
            ("momentum", 1e-3),
            ("adam", 0.1),
            ("lars", 1.0),
            ("shampoo", 1e-3),
            ("schedule_free_adamw", 0.0025),
            ("lbfgs", 1.0),
            ("prodigy", 1.0),  # its own rate on a line under its name
        ]
    ],
}


def side_room(tab) -> dict:
    """What the side column shows: each chart's plot height, and how far any ranking cell
    reaches past the ranking's (and the side column's) right edge."""
    return tab.evaluate(
        """() => {
          const plot = id => document.querySelector(`#${id} .js-plotly-plot`)
            ._fullLayout._size.h;
          const side = document.querySelector('.side').getBoundingClientRect();
          const board = document.querySelector('#leaderboard').getBoundingClientRect();
          const cells = [...document.querySelectorAll('#leaderboard th, #leaderboard td')]
            .filter(c => c.offsetParent);
          const right = Math.max(...cells.map(c => c.getBoundingClientRect().right));
          const bottom = Math.max(...[...document.querySelectorAll('.side > *, .charts > *')]
            .filter(e => e.offsetParent).map(e => e.getBoundingClientRect().bottom));
          return {loss: plot('loss-graph'), lower: plot('lr-graph'),
                  past: right - Math.min(board.right, side.right), below: bottom - side.bottom,
                  columns: [...document.querySelectorAll('#leaderboard thead th')]
                    .filter(c => c.offsetParent).map(c => c.textContent)};
        }"""
    )


def test_eight_racers_fit_the_laptops_side_column(tabs):
    tab = tabs(race_link(EIGHT), viewport=LAPTOP)
    tab.evaluate("() => window.dash_clientside.set_props('step-slider', {value: 300})")
    tab.wait_for_function(f"() => {RACE}.rendered === 300 && {RACE}.idle()")
    room = side_room(tab)
    assert "steps to tol" in room["columns"] and "work to tol" in room["columns"]
    assert room["past"] <= 1, room  # no column cut
    assert room["below"] <= 1, room  # nothing below the side column's foot
    assert room["loss"] >= 110 and room["lower"] >= 70, room
    assert tab.locator("#leaderboard tbody tr").count() == 8
    assert tab.locator("#quick-controls .quick-row").count() == 8


def test_a_links_slots_are_read_only_when_they_fit_its_race():
    from callbacks.entry import slots_of

    assert slots_of("1.3", 2) == (1, 3)
    assert slots_of("9.0.4", 3) == (9, 0, 4)
    # The usual order, or anything that does not fit, is the default: one cached page.
    for value, count in [("0.1", 2), (None, 2), ("1", 2), ("1.1", 2), ("1.x", 2), ("1000.2", 2)]:
        assert slots_of(value, count) == ()


# ----- the map on a laptop: the inspector beside it, every tick label, the step in the address


def map_plot(tab) -> dict:
    """The map's plotting area as drawn (Plotly's drag rectangle), its box, and its x axis's
    tick labels' lowest edge."""
    return state(
        tab,
        "(() => { const plot = document.querySelector('#race-graph .nsewdrag')"
        ".getBoundingClientRect(); const box = document.getElementById('race-graph')"
        ".getBoundingClientRect(); const labels = [...document.querySelectorAll("
        "'#race-graph .xtick text')].map(t => t.getBoundingClientRect().bottom);"
        " return {w: plot.width, h: plot.height, top: plot.top, right: box.right,"
        " box_bottom: box.bottom, labels_bottom: Math.max(...labels)}; })()",
    )


def test_the_step_inspector_leaves_the_laptops_map_its_size(tabs):
    # Opening the inspector took a slice of the map's column: the map's box was about half
    # as tall and the plot drawn for the old box was cut off below (its x axis gone).
    tab = tabs("/", viewport=LAPTOP)
    before = map_plot(tab)
    inspected(tab, 0)
    tab.wait_for_function(READY)
    after = map_plot(tab)
    assert abs(after["h"] - before["h"]) <= 1 and abs(after["w"] - before["w"]) <= 1, (
        before,
        after,
    )
    assert after["labels_bottom"] <= after["box_bottom"] <= LAPTOP["height"], after
    # The inspector is on the first screen beside the map, under the ranking (which stays),
    # and shows its rows.
    panel = tab.locator("#inspect-panel").bounding_box()
    board = tab.locator("#leaderboard").bounding_box()
    assert panel["x"] >= after["right"] - 0.5, (panel, after)
    assert panel["y"] >= board["y"] + board["height"] - 0.5, (panel, board)
    assert panel["y"] + 100 <= LAPTOP["height"] and panel["x"] + panel["width"] <= 1400
    row = tab.locator("#inspect-panel tr[data-name='gradient']")
    assert row.is_visible()
    top = row.bounding_box()
    assert top["y"] + top["height"] <= LAPTOP["height"]
    assert "gradient" in row.inner_text()
    # Closed again, the side column's charts are back.
    tab.select_option("#inspect-select", "")
    tab.wait_for_function("() => document.getElementById('inspect-panel').hidden")
    assert tab.locator("#loss-graph").is_visible()
    assert tab.problems == []


@pytest.mark.parametrize("surface", ["rosenbrock", "himmelblau", "beale", "six_hump_camel"])
def test_every_tick_label_of_the_laptops_map_is_shown(tabs, surface):
    # The top y label (Rosenbrock's "3") sat on the figure's edge and Plotly hid it.
    race = {"surface": {"name": surface}, "steps": 20, "racers": [{"optimizer": "sgd", "lr": 1e-3}]}
    tab = tabs(race_link(race), viewport=LAPTOP)
    labels = state(
        tab,
        "(() => { const svg = document.querySelector('#race-graph .main-svg')"
        ".getBoundingClientRect(); return [...document.querySelectorAll("
        "'#race-graph .xtick text, #race-graph .ytick text')].map(t => {"
        " const r = t.getBoundingClientRect(); return [t.textContent, r.width > 0"
        " && r.top >= svg.top - 0.5 && r.bottom <= svg.bottom + 0.5 && r.left >= svg.left - 0.5"
        " && getComputedStyle(t).display !== 'none']; }); })()",
    )
    assert len(labels) >= 6
    assert all(shown for _, shown in labels), labels


def step_in_address(tab) -> int:
    return int(state(tab, "new URLSearchParams(location.search).get('step') || '0'"))


def test_the_address_follows_the_step_while_playing(tabs):
    # The address's step= was written only once playback stopped: a link copied from the
    # address bar mid-race opened at the start.
    tab = tabs("/", viewport=LAPTOP)
    tab.evaluate(
        "() => { window.__writes = 0; const write = history.replaceState.bind(history);"
        " history.replaceState = (...a) => { window.__writes += 1; return write(...a); }; }"
    )
    started = state(tab, "performance.now()")
    tab.keyboard.press("Space")
    tab.wait_for_function(
        f"() => {RACE}.playing && +(new URLSearchParams(location.search).get('step')) > 0"
    )
    first = step_in_address(tab)
    assert state(tab, f"{RACE}.playing") and 0 < first <= state(tab, f"{RACE}.step")
    tab.wait_for_function(
        f"s => {RACE}.playing && +(new URLSearchParams(location.search).get('step')) > s",
        arg=first,
    )
    # Throttled: not a write per frame (Chromium refuses more than 200 in 10 s).
    seconds = (state(tab, "performance.now()") - started) / 1000
    assert state(tab, "window.__writes") <= 2 * seconds + 3, (
        state(tab, "window.__writes"),
        seconds,
    )
    # Paused: the address holds the step playback stopped at, and so does the share box.
    tab.keyboard.press("Space")
    tab.wait_for_function(
        f"() => !{RACE}.playing"
        f" && +(new URLSearchParams(location.search).get('step')) === {RACE}.step"
    )
    stopped = state(tab, f"{RACE}.step")
    tab.wait_for_function(
        "s => document.getElementById('share-link').value.includes('step=' + s)", arg=stopped
    )
    assert tab.problems == []


# ----- round 2, item 3: a refused field says, where the eye is, that the race is not updating --


@pytest.mark.parametrize("typed", ["", "1e9", "abc"])
def test_a_refused_field_says_beside_the_ranking_that_the_race_is_the_last_that_ran(tabs, typed):
    tab = tabs("/", viewport=LAPTOP)
    box = control("racer-lr", 1)
    loaded = state(tab, f"{RACE}.loadedAt")
    tab.fill(box, typed)
    tab.press(box, "Enter")
    error = control("racer-error", 1)
    tab.wait_for_function("sel => document.querySelector(sel).textContent !== ''", arg=error)
    refusal = tab.inner_text(error)  # "learning rate: in (0, 10], got …"
    field, allowed = refusal.split(": ", 1)
    note = tab.locator("#not-raced")
    note.wait_for(state="visible")
    text = note.inner_text()
    racer = state(tab, f"{RACE}.racers.find(r => r.index === 1).label.split(' (')[0]")
    assert text.startswith(f"Not raced: {field} of {racer}: {allowed}"), text
    assert "The race shown is the last one that ran." in text
    # Where the eye is: back at the map, on the first screen, just above the ranking.
    tab.evaluate("() => window.scrollTo(0, 0)")
    tab.wait_for_function("() => window.scrollY === 0")
    line, board = note.bounding_box(), tab.locator("#leaderboard").bounding_box()
    assert 0 <= line["y"] and line["y"] + line["height"] <= board["y"] + 1
    assert board["y"] - (line["y"] + line["height"]) <= 40
    assert line["y"] + line["height"] <= LAPTOP["height"]
    # A racer added meanwhile changes the cards, not the race: the line stays.
    cards, shown = tab.locator(".racer-card").count(), state(tab, f"{RACE}.race.share")
    tab.click("#add-racer")
    tab.wait_for_function("n => document.querySelectorAll('.racer-card').length > n", arg=cards)
    tab.wait_for_function(READY)
    assert note.is_visible() and note.inner_text() == text
    assert state(tab, f"{RACE}.race.share") == shown and state(tab, f"{RACE}.racers.length") == 4
    # Its button takes the user to the box that was refused.
    note.locator("button").click()
    tab.wait_for_function("sel => document.activeElement === document.querySelector(sel)", arg=box)
    # Corrected, the race runs again (with the added racer) and the line goes.
    tab.fill(box, "0.002")
    tab.press(box, "Enter")
    tab.wait_for_function(f"t => {RACE}.loadedAt > t && {RACE}.idle()", arg=loaded)
    note.wait_for(state="hidden")
    assert state(tab, f"{RACE}.racers.length") == cards + 1
    assert tab.problems == []
