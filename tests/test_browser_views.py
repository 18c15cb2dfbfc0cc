"""Issue 13 in a real headless Chromium: heavy fair-race views (item 8), many starts that only
claim basins where runs came to rest (item 9), and the students' QR code (item 11)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from optimizers import validate
from optimizers.starts import MOVING, many_starts
from optimizers.validate import validate_race
from tests.live import RACE, READY, VIEWPORT, race_link, state
from tests.test_heavy_views import HEAVY
from tests.test_qr import decode_png

REQUEST_LIMIT = 64 * 1024  # what a page request may weigh: a few KB of controls and config


@pytest.fixture
def watched(browser, live):
    """Open a path with every request's size and every response's status recorded from the
    first byte on (the opening load included)."""
    opened = []

    def open_(path: str, **context):
        ctx = browser.new_context(viewport=context.pop("viewport", VIEWPORT), **context)
        tab = ctx.new_page()
        tab.problems, tab.sent, tab.statuses = [], [], []
        tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: tab.problems.append(str(e)))
        tab.on(
            "request",
            lambda r: tab.sent.append((r.url, len(r.post_data_buffer or b""))),
        )
        tab.on("response", lambda r: tab.statuses.append((r.status, r.url)))
        opened.append(ctx)
        tab.goto(live[0] + path)
        tab.wait_for_function(READY)
        return tab

    yield open_
    for ctx in opened:
        ctx.close()


def choose(page, name: str, value: str) -> None:
    page.locator(f"input[name='{name}'][value='{value}']").check()


def assert_light_requests(page) -> None:
    """No request of the page's is heavy, and none was refused for its size."""
    assert [s for s in page.statuses if s[0] == 413] == []
    heaviest = max(page.sent, key=lambda s: s[1])
    assert heaviest[1] < REQUEST_LIMIT, heaviest


def test_a_heavy_race_sweeps_without_sending_the_race_back(watched):
    page = watched(race_link(HEAVY))
    assert state(page, f"JSON.stringify({RACE}.race).length") > 1_000_000  # really heavy
    choose(page, "analysis-select", "sweep")
    page.wait_for_function(
        f"() => {RACE}.sweep && {RACE}.sweep.share === {RACE}.race.share && "
        "document.querySelectorAll('#sweep-graph .scatterlayer .trace').length > 0",
        timeout=120_000,
    )
    assert len(state(page, f"{RACE}.sweep.racers")) == 8
    assert page.locator("#sweep-table tr[data-racer]").count() == 8
    # What the sweep asked with: the race's config and order, not its result.
    asked = [s for s in page.sent if "/_dash-update-component" in s[0]]
    assert asked and max(size for _, size in asked) < 8 * 1024
    assert_light_requests(page)
    assert page.problems == []


def test_a_sweep_over_the_work_budget_says_why_in_its_place(watched, monkeypatch):
    # The page's largest sweep (8 racers × 49 rates × 5,000 steps) fits the budget; a smaller
    # budget on the live server shows what a refused view looks like.
    monkeypatch.setattr(validate, "MAX_RUN_STEPS", 1_000_000)
    page = watched(race_link(HEAVY))
    choose(page, "analysis-select", "sweep")
    page.wait_for_selector("#sweep-table .view-refused", timeout=60_000)
    words = (
        "Too much work for one sweep: 8 racers × 49 rates (each racer's own too) × 5,000 steps"
        " = 1,960,000 run-steps; the limit is 1,000,000. Use fewer racers or steps."
    )
    assert page.inner_text("#sweep-table .view-refused") == words
    assert page.inner_text("#sweep-status") == words
    # The chart says it too, instead of staying empty.
    note = state(
        page,
        "document.getElementById('sweep-graph').querySelector('.js-plotly-plot')"
        ".layout.annotations[0].text",
    )
    assert "Too much work for one sweep" in note and "1,000,000" in note
    assert page.locator("#sweep-graph .annotation-text").count() == 1
    assert_light_requests(page)
    assert page.problems == []


# SGD at lr 0.035 bounces across Himmelblau: it used to list 9 "found" basins at f = 5–30.
BOUNCING = {"surface": {"name": "himmelblau"}, "racers": [{"optimizer": "sgd", "lr": 0.035}]}


def test_many_starts_claim_no_basin_where_runs_are_still_moving(watched):
    page = watched(race_link(BOUNCING, "&analysis=starts"))
    page.wait_for_function(
        f"() => {RACE}.starts && document.querySelector('#starts-summary tr.still-moving')"
    )
    expected = many_starts(validate_race(BOUNCING), 0, "grid", 64)
    moving = int((expected.basin == MOVING).sum())
    assert moving > 0
    # The table (the chart's key): every ★ row is a basin at f ≤ 1e-3; the moving runs have
    # their own row, without a star.
    rows = page.locator("#starts-summary tr[data-basin]")
    starred = [i for i in range(rows.count()) if "★" in rows.nth(i).inner_text()]
    for i in starred:
        basin = int(rows.nth(i).get_attribute("data-basin"))
        assert state(page, f"{RACE}.starts.basins[{basin}].loss") <= 1e-3
    row = page.locator("#starts-summary tr.still-moving")
    assert "★" not in row.inner_text()
    assert row.locator("td").nth(0).inner_text().strip() == "still moving"
    assert row.locator("td").nth(3).inner_text() == str(moving)
    assert f"still moving: {moving} runs" in page.inner_text("#starts-summary caption")
    # The chart: the stars are the basins only (none here above 1e-3), and the moving runs'
    # starts are one group of their own.
    traces = state(
        page,
        "document.getElementById('starts-graph').querySelector('.js-plotly-plot').data"
        ".map(t => [t.name, t.marker && t.marker.symbol, t.customdata || null,"
        " t.x ? t.x.length : 0])",
    )
    stars = [t for t in traces if t[1] == "star"]
    assert len(stars) == 1 and all(f <= 1e-3 for f in stars[0][2])
    group = [t for t in traces if t[0] == f"still moving: {moving}"]
    assert len(group) == 1 and group[0][1] == "diamond-open" and group[0][3] == moving
    assert page.problems == []


def test_present_hands_students_a_qr_code_of_this_page_without_controls(watched):
    link = race_link(BOUNCING, "&lesson=ravine&present=1&hide=lessons")
    page = watched(link, viewport={"width": 1280, "height": 720})
    page.wait_for_function(f"() => {RACE}.presenting === true")
    page.wait_for_function("() => location.search.includes('race=')")
    button = page.locator("#handoff-button")
    assert button.is_visible()
    button.click()
    page.wait_for_function(
        "() => document.getElementById('handoff-dialog').open &&"
        " document.querySelector('#handoff-code img') &&"
        " document.querySelector('#handoff-code img').complete &&"
        " document.querySelector('#handoff-code img').naturalWidth > 0"
    )
    shown = page.inner_text("#handoff-link")
    here = urlsplit(page.url)
    wanted = parse_qs(here.query)
    wanted.pop("present")
    wanted["hide"] = ["lessons,controls"]
    got = urlsplit(shown)
    assert (got.scheme, got.netloc, got.path) == (here.scheme, here.netloc, "/")
    assert parse_qs(got.query) == wanted
    # Large enough to scan across a room, and inside the screen.
    box = page.locator("#handoff-code img").bounding_box()
    assert box["width"] >= 400 and box["height"] >= 400
    assert box["y"] >= 0 and box["y"] + box["height"] <= 720
    # What the page shows decodes (Debian's zbarimg) to the students' link.
    assert decode_png(page.locator("#handoff-code img").screenshot()) == shown
    # Esc closes the dialog and leaves the page presenting.
    page.keyboard.press("Escape")
    page.wait_for_function("() => !document.getElementById('handoff-dialog').open")
    assert state(page, f"{RACE}.presenting") is True
    assert_light_requests(page)
    assert page.problems == []


def test_a_race_change_asks_nothing_of_closed_views(page):
    # Each update of the views' input asks the server for both views; with none open, a rate
    # change (ten a second while a quick slider is dragged) must send the race request alone.
    outputs = []
    page.on(
        "request",
        lambda r: outputs.append(r.post_data or "") if "_dash-update-component" in r.url else None,
    )
    loads = state(page, f"{RACE}.loads")
    page.evaluate(
        f"() => window.dash_clientside.set_props({RACE}.partId('RACER_LR', 1), {{value: 0.00123}})"
    )
    page.wait_for_function(f"n => {RACE}.loads > n && {RACE}.idle()", arg=loads)
    assert any("race-store" in o for o in outputs), outputs
    assert not [o for o in outputs if "sweep-store" in o or "starts-store" in o], outputs

    # Opened, the sweep follows the race it is shown beside.
    choose(page, "analysis-select", "sweep")
    page.wait_for_function(f"() => {RACE}.sweep && {RACE}.sweep.share === {RACE}.race.share")
    assert any("sweep-store" in o for o in outputs), outputs
