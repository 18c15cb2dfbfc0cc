"""The fair-race views in a real headless Chromium: sweep, auto-tune, noisy fans, many starts."""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pytest

from callbacks.analysis import short_rate, short_rates
from callbacks.form import OPENING_RACE
from optimizers import run_race
from optimizers.config import RateGrid
from optimizers.fan import noisy_fan
from optimizers.registry import OPTIMIZERS
from optimizers.starts import many_starts
from optimizers.sweep import sweep
from optimizers.validate import validate_race
from service.best_rate import best_rates, isolated_dip, robust_best
from service.share import decode_race
from surfaces import get_surface
from tests.live import RACE, control, race_link, state
from tests.test_browser_inputs import choose_optimizer, type_into

QUADRATIC = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1}},
    "start": [1.0, 1.0],
    "steps": 300,
    "racers": [
        {"optimizer": "sgd", "lr": 0.01},
        {"optimizer": "momentum", "lr": 0.002},
        {"optimizer": "adam", "lr": 0.001},
    ],
}


def choose(page, name: str, value: str) -> None:
    page.locator(f"input[name='{name}'][value='{value}']").check()


def sweep_shown(page) -> dict:
    page.wait_for_function(
        f"() => {RACE}.sweep && {RACE}.sweep.share === {RACE}.race.share && "
        "document.querySelectorAll('#sweep-graph .scatterlayer .trace').length > 0"
    )
    return state(page, f"{RACE}.sweep")


@pytest.fixture
def tab(tabs):
    return tabs


def test_sweep_view_plots_every_racer_with_best_rate_edge_and_current_rate(tab):
    page = tab(race_link(QUADRATIC))
    choose(page, "analysis-select", "sweep")
    shown = sweep_shown(page)
    expected = sweep(validate_race(QUADRATIC), RateGrid())
    assert shown["rates"] == expected.grid.rates().tolist()
    for got, want in zip(shown["racers"], expected.racers, strict=True):
        assert got["best"] == robust_best(want, "final_loss", 0.0).to_json()
        assert got["edge_lr"] == want.edge_lr
        assert got["lr"] == want.current.lr
    # The chart: a loss curve per racer (named by label), the best rates as stars, the current
    # rates as open circles, one divergence edge line per racer that has one.
    figure = state(page, "document.getElementById('sweep-graph').querySelector('.js-plotly-plot')")
    assert figure is not None
    traces = state(
        page,
        "document.getElementById('sweep-graph').querySelector('.js-plotly-plot').data"
        ".map(t => [t.name, t.marker && t.marker.symbol, t.x])",
    )
    names = [t[0] for t in traces]
    assert {"SGD (lr 0.01)", "Momentum (lr 0.002)", "Adam (lr 0.001)"} <= set(names)
    stars = next(t[2] for t in traces if t[1] == "star")
    assert stars == [robust_best(r, "final_loss", 0.0).lr for r in expected.racers]
    now = next(t[2] for t in traces if t[1] == "circle-open")
    assert now == [0.01, 0.002, 0.001]
    shapes = state(
        page,
        "document.getElementById('sweep-graph').querySelector('.js-plotly-plot').layout.shapes"
        ".map(s => s.x0)",
    )
    assert shapes == [r.edge_lr for r in expected.racers if r.edge_lr is not None]
    assert len(shapes) >= 1
    # The table names each best rate with its full value.
    best = page.locator("#sweep-table tr[data-racer='0'] td").nth(2).get_attribute("data-value")
    assert float(best) == robust_best(expected.racers[0], "final_loss", 0.0).lr
    # A rate change moves the current-rate marker; the sweep follows the race.
    page.fill(control("racer-lr", 0), "0.05")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {RACE}.sweep && {RACE}.sweep.racers[0].lr === 0.05")
    assert page.problems == []


def test_auto_tune_sets_best_rates_races_them_and_says_so(tab):
    page = tab(race_link(QUADRATIC))
    choose(page, "analysis-select", "sweep")
    before = sweep_shown(page)
    choose(page, "tune-criterion", "steps_to_tol")
    page.wait_for_function(f"() => {RACE}.sweep.criterion === 'steps_to_tol'")
    page.click("#tune-button")
    page.wait_for_selector("#tuned-note")
    note = page.inner_text("#tuned-note")
    assert "steps to tolerance" in note and "48 rates" in note
    config = decode_race(state(page, f"{RACE}.race.share"))
    tuned = sweep(validate_race(QUADRATIC), RateGrid(), "steps_to_tol")
    assert [r.lr for r in config.racers] == short_rates(best_rates(tuned, 0.0))
    assert [r.lr for r in config.racers] != [r["lr"] for r in before["racers"]]
    # The race on the page is the tuned race, and no racer ends worse than before.
    old = run_race(validate_race(QUADRATIC)).racers
    new = run_race(config).racers
    for a, b in zip(old, new, strict=True):
        assert b.steps_to_tol is not None
        assert a.steps_to_tol is None or b.steps_to_tol <= a.steps_to_tol
    boxes = [float(page.input_value(control("racer-lr", i))) for i in range(3)]
    assert boxes == short_rates(best_rates(tuned, 0.0))
    # Its link says it is tuned; opened elsewhere, the claim is checked and the note shows.
    page.wait_for_function("() => location.search.includes('tuned=steps_to_tol')")
    link = urlsplit(page.url)
    shared = tab(f"{link.path}?{link.query}")
    shared.wait_for_selector("#tuned-note")
    assert shared.inner_text("#tuned-note") == note
    # Changing a rate by hand ends the "tuned" claim.
    page.fill(control("racer-lr", 1), "0.01")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('tuned-note')")
    assert page.problems == []


def test_auto_tune_passes_over_an_isolated_dip_and_the_sweep_shows_it(tabs):
    # Issue 25, item 13: on the opening race Auto-tune set Adam to 1.28, a lone dip (the next
    # rate up ends above 100) whose path leaves the map. The page says how it judges a rate,
    # marks the dip ▽ and says why it is passed over; Auto-tune takes a rate whose
    # neighbours also do well.
    page = tabs("/", viewport={"width": 1400, "height": 900})
    choose(page, "analysis-select", "sweep")
    shown = sweep_shown(page)
    expected = sweep(validate_race(OPENING_RACE), RateGrid())
    adam = 3
    assert shown["racers"][adam]["label"].startswith("Adam")
    dip = isolated_dip(expected.racers[adam], "final_loss", 0.0)
    assert dip is not None and abs(dip["lr"] - 1.2776) < 1e-3
    caption = page.locator("#sweep-caption")
    assert caption.is_visible() and "neighbours on the grid also do well" in caption.inner_text()
    # The chart: the star is not at the dip, the ▽ is.
    traces = state(
        page,
        "document.getElementById('sweep-graph').querySelector('.js-plotly-plot').data"
        ".map(t => [t.marker && t.marker.symbol, t.x])",
    )
    stars = next(x for symbol, x in traces if symbol == "star")
    dips = next(x for symbol, x in traces if symbol == "triangle-down-open")
    assert stars[adam] < 1.2 and dip["lr"] in dips
    # The table says it in words, on screen, with the neighbour that sinks it.
    note = page.locator("#sweep-table tr[data-racer='3'] .sweep-dip")
    note.scroll_into_view_if_needed()
    assert note.is_visible()
    text = note.inner_text()
    assert "isolated dip" in text and "1.28" in text and "1.71" in text
    assert "neighbours on the grid" in page.inner_text("#sweep-table caption")
    # Auto-tune takes the star's rate, and Adam's path stays on the map.
    page.click("#tune-button")
    page.wait_for_selector("#tuned-note")
    rate = float(page.input_value(control("racer-lr", adam)))
    assert rate == short_rate(best_rates(expected, 0.0)[adam]) == short_rate(stars[adam])
    page.wait_for_function(f"() => {RACE}.idle()")
    inside = state(
        page,
        f"(() => {{ const r = {RACE}.racers.find(r => r.index === {adam}); const v ="
        f" {RACE}.surface.view; return r.x.every((x, i) => x >= v[0][0] && x <= v[0][1]"
        " && r.y[i] >= v[1][0] && r.y[i] <= v[1][1]); })()",
    )
    assert inside
    assert page.problems == []


def significant_digits(text: str) -> int:
    """How many significant digits a rate as a box shows it has ("0.00148": 3)."""
    mantissa = text.lower().split("e")[0].replace(".", "").replace("-", "")
    return len(mantissa.lstrip("0").rstrip("0"))


def tuned(page) -> list[str]:
    """Auto-tune clicked on the sweep's criterion: the card boxes once the tuned race is on
    the page."""
    page.click("#tune-button")
    page.wait_for_selector("#tuned-note")
    page.wait_for_function(f"() => {RACE}.tuned && {RACE}.tuned.share === {RACE}.race.share")
    return [page.input_value(control("racer-lr", i)) for i in range(len(QUADRATIC["racers"]))]


def test_auto_tune_writes_and_races_a_short_rate_and_names_the_grid_rate_it_rounded(tab):
    # Auto-tune wrote the grid's rate at full precision into the card (0.0014798331982375287).
    page = tab(race_link(QUADRATIC))
    choose(page, "analysis-select", "sweep")
    sweep_shown(page)
    boxes = tuned(page)
    grid = best_rates(sweep(validate_race(QUADRATIC), RateGrid()), 0.0)
    assert all(significant_digits(b) <= 3 for b in boxes), boxes
    assert [float(b) for b in boxes] == short_rates(grid)
    # The race on the page races the rate the card shows, and the map's key says it.
    config = decode_race(state(page, f"{RACE}.race.share"))
    assert [str(r.lr) for r in config.racers] == boxes
    key = page.inner_text("#map-key")
    assert all(f"lr {b})" in key for b in boxes), key
    # Honest about the sweep: the note (shown while this is the tuned race) says the rates
    # are rounded and names each grid rate and what it became; the sweep's chart keeps the
    # grid's stars beside the racers' (rounded) rates.
    note = page.inner_text("#tuned-note")
    assert "raced to 3 significant digits" in note
    rounded = [(g, b) for g, b in zip(grid, boxes, strict=True) if float(b) != g]
    assert rounded
    for g, b in rounded:
        assert f"{g:.6g} as {b}" in note, note
    page.wait_for_function(
        f"() => {RACE}.sweep && {RACE}.sweep.share === {RACE}.race.share"
        " && document.querySelectorAll('#sweep-graph .scatterlayer .trace').length > 0"
    )
    traces = state(
        page,
        "document.getElementById('sweep-graph').querySelector('.js-plotly-plot').data"
        ".map(t => [t.marker && t.marker.symbol, t.x])",
    )
    now = next(x for symbol, x in traces if symbol == "circle-open")
    assert now == [float(b) for b in boxes]
    assert page.problems == []


def test_a_tuned_rate_belongs_to_its_optimizer_and_a_typed_rate_stays(tab):
    # A racer switched to another optimizer kept the old optimizer's tuned rate.
    page = tab(race_link(QUADRATIC))
    choose(page, "analysis-select", "sweep")
    sweep_shown(page)
    boxes = tuned(page)
    assert float(boxes[0]) != OPTIMIZERS["adagrad"].card.default_lr
    # Card 0: tuned, then switched: the new optimizer's default, like an untouched rate.
    choose_optimizer(page, 0, "adagrad")
    page.wait_for_function(f"() => {RACE}.idle() && {RACE}.racers[0].label.startsWith('AdaGrad')")
    assert float(page.input_value(control("racer-lr", 0))) == OPTIMIZERS["adagrad"].card.default_lr
    assert decode_race(state(page, f"{RACE}.race.share")).racers[0].lr == (
        OPTIMIZERS["adagrad"].card.default_lr
    )
    # Card 1: tuned, then a rate typed by hand: the person's, whatever the optimizer.
    type_into(page, control("racer-lr", 1), "0.005")
    page.wait_for_function(f"() => {RACE}.idle() && /0\\.005\\b/.test({RACE}.racers[1].label)")
    choose_optimizer(page, 1, "rmsprop")
    page.wait_for_function(f"() => {RACE}.idle() && {RACE}.racers[1].label.startsWith('RMSProp')")
    assert page.input_value(control("racer-lr", 1)) == "0.005"
    assert page.problems == []


NOISY = {
    "surface": {"name": "quadratic", "params": {"a": 20, "b": 1}},
    "steps": 400,
    "noise": {"std": 2.0, "seed": 5},
    "racers": [{"optimizer": "adam", "lr": 0.05}, {"optimizer": "sgd", "lr": 0.05}],
}


def test_noisy_race_draws_median_band_copies_and_reports_spread(tab):
    page = tab(race_link(NOISY))
    config = validate_race(NOISY)
    fans = [noisy_fan(config, i, 32) for i in range(2)]
    # The leaderboard: median and quartiles of the final loss over 32 seeds, per racer.
    page.wait_for_selector("#leaderboard table.noisy")
    for i, fan in enumerate(fans):
        cells = page.locator(f"#leaderboard tr[data-racer='{i}'] td")
        assert float(cells.nth(3).get_attribute("data-value")) == fan.summary()["median"]
        assert cells.nth(5).get_attribute("data-value") == str(fan.summary()["diverged"])
    # The map's bold trail is the median path, drawn to the playback step.
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => {RACE}.rendered === 1")  # the step goes through Dash
    heads = state(page, f"{RACE}.heads")
    for head in heads:
        median = fans[head["index"]].median_path()
        k = head["step"]
        assert head["x"] == pytest.approx(median[k, 0], rel=1e-6, abs=1e-6)
    # The loss chart: per racer a band between the quartiles and the median line.
    names = state(
        page,
        "document.getElementById('loss-graph').querySelector('.js-plotly-plot').data"
        ".map(t => t.name + '|' + (t.fill || ''))",
    )
    assert sum(n.endswith("upper quartile|tonexty") for n in names) == 2
    assert sum(" median|" in n for n in names) == 2
    # Faint copies: the canvas holds translucent pixels of the racer's colour away from the
    # median path once playback has moved on.
    page.evaluate("() => window.dash_clientside.set_props('step-slider', {value: 400})")
    page.wait_for_function(f"() => {RACE}.rendered === 400")
    translucent = page.evaluate(
        """() => {
        const c = document.querySelector('#race-graph canvas.race-overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 20 && d[i] < 120) n++;
        return n;
    }"""
    )
    assert translucent > 500
    assert page.problems == []


HIMMELBLAU = {
    "surface": {"name": "himmelblau"},
    "steps": 500,
    "racers": [{"optimizer": "sgd", "lr": 0.005}, {"optimizer": "adam", "lr": 0.1}],
}


def test_many_starts_view_colours_starts_by_the_basin_reached(tab):
    page = tab(race_link(HIMMELBLAU, "&analysis=starts"))
    page.wait_for_function(
        f"() => {RACE}.starts && document.querySelectorAll('#starts-summary tr[data-basin]')"
        ".length > 0"
    )
    assert page.locator("input[name='analysis-select'][value='starts']").is_checked()
    shown = state(page, f"{RACE}.starts")
    expected = many_starts(validate_race(HIMMELBLAU), 0, "grid", 64)
    assert shown["basin"] == expected.basin.tolist()
    minima = sorted(tuple(p) for p in get_surface("himmelblau").minima)
    rows = page.locator("#starts-summary tr[data-basin]")
    points = sorted(
        (
            float(rows.nth(i).locator("td").nth(1).get_attribute("data-x")),
            float(rows.nth(i).locator("td").nth(1).get_attribute("data-y")),
        )
        for i in range(rows.count())
    )
    assert points == minima
    # Each start marker has its basin's colour: four groups, 64 starts in all.
    groups = state(
        page,
        "document.getElementById('starts-graph').querySelector('.js-plotly-plot').data"
        ".filter(t => t.marker && t.marker.symbol === 'circle')"
        ".map(t => [t.marker.color, t.x.length])",
    )
    assert len(groups) == 4 and len({g[0] for g in groups}) == 4
    assert sum(g[1] for g in groups) == 64
    # Another racer and a random cloud.
    page.focus("#starts-racer")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.type === 'radio'")
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.activeElement.value === '1'")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => {RACE}.starts.optimizer === 'adam'")
    assert page.inner_text("#starts-racer") == "Adam (lr 0.1)"
    choose(page, "starts-layout", "cloud")
    page.wait_for_function(
        f"() => {RACE}.starts.layout === 'cloud' && {RACE}.starts.optimizer === 'adam'"
    )
    cloud = many_starts(validate_race(HIMMELBLAU), 1, "cloud", 64)
    assert state(page, f"{RACE}.starts.basin") == cloud.basin.tolist()
    np.testing.assert_array_equal(state(page, f"{RACE}.starts.starts"), cloud.starts)
    assert "analysis=starts" in page.url
    assert page.problems == []


RASTRIGIN = {
    "surface": {"name": "rastrigin"},
    "steps": 300,
    "racers": [{"optimizer": "sgd", "lr": 0.002}],
}


def test_many_starts_on_a_bumpy_surface_keep_a_few_colour_groups(tab):
    page = tab(race_link(RASTRIGIN, "&analysis=starts"))
    page.wait_for_function(
        f"() => {RACE}.starts && document.querySelectorAll('#starts-summary tr[data-basin]')"
        ".length > 0"
    )
    found = many_starts(validate_race(RASTRIGIN), 0, "grid", 64).basins
    basins = len(found)
    assert basins > 12  # more places than colours
    # The table: a row per coloured basin, one for the grey group, and its places folded.
    assert page.locator("#starts-summary > table tr[data-basin]").count() == 11
    grey = page.locator("#starts-summary tr.other-ends td")
    assert grey.nth(1).inner_text() == f"{basins - 11} places"
    assert grey.nth(3).inner_text() == str(sum(b.count for b in found[11:]))
    folded = page.locator("#starts-summary details.other-ends tr[data-basin]")
    assert folded.count() == basins - 11 and not folded.first.is_visible()
    page.click("#starts-summary details.other-ends summary")
    assert folded.first.is_visible()
    groups = state(
        page,
        "document.getElementById('starts-graph').querySelector('.js-plotly-plot').data"
        ".filter(t => t.marker && t.marker.symbol === 'circle')"
        ".map(t => [t.name, t.marker.color, t.x.length])",
    )
    # The lowest basins have a colour each; every other place shares one group.
    assert len(groups) == len({g[1] for g in groups}) == 12
    others = [g for g in groups if g[0].startswith("other ends")]
    assert len(others) == 1 and others[0][0].startswith(f"other ends ({basins - 11} places)")
    assert sum(g[2] for g in groups) == 64
    assert page.problems == []
