"""A student's phone, held upright (390×844) and turned sideways (844×390), with touch (issue 25,
items 6 to 10), read off the page in Debian's Chromium: what is on the first screen, what is
beside what, the touch targets' sizes, and what the students' link says."""

from __future__ import annotations

from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.live import RACE, state
from tests.test_browser_layout import box

PORTRAIT = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
LANDSCAPE = {"viewport": {"width": 844, "height": 390}, "is_mobile": True, "has_touch": True}
ORIENTATIONS = {"portrait": PORTRAIT, "landscape": LANDSCAPE}
# The map's plotting area (its axes included): what a student looks at.
PLOT = "#race-graph .main-svg"


@pytest.fixture
def tab(tabs):
    """Opens the live app at a path with a context's options (conftest's ``tabs``)."""
    return lambda path, options: tabs(path, **options)


def on_screen(page, selector: str) -> bool:
    """Wholly inside the viewport as the page is scrolled now."""
    b = box(page, selector)
    size = page.viewport_size
    return (
        b is not None
        and b["width"] > 0
        and b["x"] >= -0.5
        and b["y"] >= -0.5
        and b["x"] + b["width"] <= size["width"] + 0.5
        and b["y"] + b["height"] <= size["height"] + 0.5
    )


def no_sideways_scroll(page) -> bool:
    return state(
        page, "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def shown(page, selector: str) -> list[dict]:
    """The boxes of the elements ``selector`` names that are drawn."""
    return page.evaluate(
        "s => [...document.querySelectorAll(s)].filter(e => e.getClientRects().length"
        " && getComputedStyle(e).visibility !== 'hidden').map(e => {"
        " const r = e.getBoundingClientRect(); return {w: r.width, h: r.height,"
        " text: (e.innerText || e.getAttribute('aria-label') || e.className).trim()}; })",
        selector,
    )


# ----- item 6: the students' link says the controls are hidden --------------------------------


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
def test_the_students_link_says_the_controls_are_hidden_and_links_the_full_page(tab, orientation):
    page = tab("/?lesson=how_much_momentum&hide=controls", ORIENTATIONS[orientation])
    note = page.locator(".controls-note")
    assert note.is_visible()
    assert "Racer settings hidden" in note.inner_text()
    # One line, on the first screen.
    line = page.evaluate(
        "() => { const n = document.querySelector('.controls-note');"
        " return [n.getBoundingClientRect().height, parseFloat(getComputedStyle(n).lineHeight)"
        " || 1.4 * parseFloat(getComputedStyle(n).fontSize)]; }"
    )
    assert line[0] < 1.6 * line[1]
    assert on_screen(page, ".controls-note")
    # Item 10: nothing to present and no link to hand on from a student's phone.
    assert not page.locator("#present-button").is_visible()
    assert not page.locator("#handoff-button").is_visible()
    # The link is this page without "hide": the same lesson and race, every control shown.
    link = page.locator(".controls-note a")
    page.wait_for_function("() => location.search.includes('race=')")  # the address is whole
    link.click()
    page.wait_for_function("() => !/[?&]hide=/.test(window.location.search)")
    page.wait_for_function(f"() => {RACE}.heads.length > 0 && {RACE}.idle()")
    query = parse_qs(urlsplit(page.url).query)
    assert query["lesson"] == ["how_much_momentum"] and "race" in query and "hide" not in query
    assert page.locator(".controls").is_visible()
    assert not page.locator(".controls-note").is_visible()
    assert page.problems == []


# ----- item 7: sideways, the map and playback side by side, no toolbar -----------------------


@pytest.mark.parametrize("path", ["/", "/?lesson=sam_two_wells&beat=1"])
def test_sideways_the_map_and_play_are_on_screen_together(tab, path):
    page = tab(path, LANDSCAPE)
    assert no_sideways_scroll(page)
    plot, play = box(page, PLOT), box(page, "#play-button")
    # Side by side: Play to the right of the map, level with it.
    assert play["x"] >= plot["x"] + plot["width"] - 1
    assert plot["y"] <= play["y"] <= plot["y"] + plot["height"]
    if path == "/":  # nothing above the stage but the title: both on the first screen
        assert on_screen(page, PLOT) and on_screen(page, "#play-button")
    # Scrolled to the map, the whole map and Play are on the screen together.
    page.evaluate("() => document.querySelector('#race-graph').scrollIntoView()")
    page.wait_for_function(
        "() => document.querySelector('#race-graph').getBoundingClientRect().top <= 1"
    )
    assert on_screen(page, PLOT) and on_screen(page, "#play-button")
    assert box(page, PLOT)["height"] >= 0.6 * 390
    # No Plotly toolbar over the map or the charts.
    assert shown(page, ".modebar-container") == []
    assert page.problems == []


def test_sideways_the_rate_chart_is_readable(tab):
    page = tab("/", LANDSCAPE)
    page.evaluate("() => document.querySelector('#lr-graph').scrollIntoView()")
    page.wait_for_function(
        "() => (gd => gd && gd._fullLayout && gd.data && gd.data.length)"
        "(document.querySelector('#lr-graph .js-plotly-plot'))"
    )
    graph = box(page, "#lr-graph")
    assert graph["height"] >= 180  # it was about 80 px
    # The axis title whole inside the chart, and no two tick labels overlapping.
    title = page.locator("#lr-graph .g-ytitle text").first
    assert title.text_content() == "learning rate"
    t = title.bounding_box()
    assert t["y"] >= graph["y"] - 0.5 and t["y"] + t["height"] <= graph["y"] + graph["height"] + 0.5
    ticks = page.evaluate(
        "() => [...document.querySelectorAll('#lr-graph .ytick text')]"
        ".map(e => e.getBoundingClientRect()).filter(r => r.height > 0)"
        ".map(r => [r.top, r.bottom])"
    )
    assert len(ticks) >= 2
    ticks.sort()
    assert all(a[1] <= b[0] + 0.5 for a, b in pairwise(ticks)), ticks


# ----- item 8: upright, the map and Play come first and the caption folds ---------------------


@pytest.mark.parametrize("lesson", ["how_much_momentum", "sam_two_wells"])
def test_upright_a_lessons_map_and_play_are_on_the_first_screen_and_the_caption_folds(tab, lesson):
    page = tab(f"/?lesson={lesson}", PORTRAIT)
    assert on_screen(page, PLOT) and on_screen(page, "#play-button")
    fold = page.locator("#lesson-caption .caption-fold")
    assert fold.is_visible() and fold.get_attribute("aria-expanded") == "false"
    assert on_screen(page, "#lesson-caption .caption-fold")
    # The beat's own buttons stay in the folded caption.
    assert on_screen(page, "#lesson-caption .beat-play")
    assert on_screen(page, "#lesson-caption .beat-nav a")
    # Unfolded, the whole caption: the beat's text (or the question and its answers) whole.
    fold.click()
    page.wait_for_function(
        "() => document.querySelector('.caption-fold').getAttribute('aria-expanded') === 'true'"
    )
    whole = (
        "[...document.querySelectorAll('#lesson-caption .beat-caption,"
        " #lesson-caption .predict-prompt')].filter(e => e.getClientRects().length)"
        ".every(e => e.scrollHeight <= e.clientHeight + 1)"
    )
    assert state(page, whole)
    if lesson == "sam_two_wells":  # its first beat asks first: the answers are there to tap
        assert page.locator(".predict-choice").first.is_visible()
        assert page.locator(".predict-reveal").is_visible()
    # Folded again, and on a laptop never folded.
    fold.click()
    page.wait_for_function(
        "() => document.querySelector('.caption-fold').getAttribute('aria-expanded') === 'false'"
    )
    page.set_viewport_size({"width": 1400, "height": 900})
    page.wait_for_function("() => !document.querySelector('.caption-fold').getClientRects().length")
    assert state(page, whole)
    assert page.problems == []


# ----- items 9 and 10: touch targets, the optimizer list, Export ------------------------------

TARGETS = (
    "[role=slider], .loss-axis label, .lower-chart label, .quick-show,"
    " .quick-rate, .playback button, .toolbar button, .view-select label, #loop-toggle label,"
    " .export-menu summary, input[type=radio]"
)


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
def test_every_touch_target_is_44px_and_export_is_centred(tab, orientation):
    page = tab("/", ORIENTATIONS[orientation])
    targets = shown(page, TARGETS)
    assert len(targets) >= 20
    # (A range's hit area is its whole height; its width is the row's.)
    small = [t for t in targets if t["h"] < 44 or t["w"] < 44]
    assert small == []
    # "Export" in the middle of its button, across and up and down.
    off = page.evaluate(
        "() => { const s = document.querySelector('.export-menu summary'),"
        " t = [...s.childNodes].find(n => n.nodeType === 3 && n.textContent.trim()),"
        " range = document.createRange(); range.selectNodeContents(t);"
        " const a = s.getBoundingClientRect(), b = range.getBoundingClientRect();"
        " return [(b.left + b.right) / 2 - (a.left + a.right) / 2,"
        " (b.top + b.bottom) / 2 - (a.top + a.bottom) / 2]; }"
    )
    assert abs(off[0]) <= 2 and abs(off[1]) <= 2, off
    assert page.problems == []


def test_the_optimizer_list_shows_most_of_its_entries_on_a_phone(tab):
    page = tab("/", PORTRAIT)
    menu = page.locator(".racer-card").first.locator(".dash-dropdown").first
    menu.scroll_into_view_if_needed()
    menu.click()
    page.wait_for_selector(".dash-dropdown-content .dash-dropdown-option")
    seen = page.evaluate(
        "() => { const list = document.querySelector('.dash-dropdown-content'),"
        " r = list.getBoundingClientRect(),"
        " all = [...list.querySelectorAll('.dash-dropdown-option')];"
        " return [all.length, all.filter(o => { const b = o.getBoundingClientRect();"
        " return b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5; }).length,"
        " r.top >= 0 && r.bottom <= window.innerHeight]; }"
    )
    total, whole, inside = seen
    assert total >= 20  # every optimizer is offered
    assert whole >= 10, f"{whole} of {total} entries at a time"  # it was 4 of 23
    assert inside


# ----- item 16 upright: what the race is, in one short line --------------------------------


@pytest.mark.parametrize("path", ["/", "/?lesson=how_much_momentum"])
def test_upright_the_first_screen_says_what_the_race_is_in_one_short_line(tab, path):
    # The newcomer's one line was hidden on phones.
    page = tab(path, PORTRAIT)
    line = page.locator("header .subtitle-short")
    assert line.is_visible()
    text = line.inner_text()
    assert "race downhill" in text and "○" in text and "lowest point ★" in text, text
    # One line, whole (nothing cut at the edge), on the first screen, of readable size; a
    # screen reader reads the whole sentence.
    fit = page.evaluate(
        "() => { const s = document.querySelector('header .subtitle'); const c ="
        " getComputedStyle(s); const t = s.querySelector('.subtitle-short')"
        ".getBoundingClientRect(); const b = s.getBoundingClientRect();"
        " return {h: b.height, line: parseFloat(c.lineHeight), font: parseFloat(c.fontSize),"
        " whole: s.scrollWidth <= s.clientWidth && t.right <= b.right + 0.5}; }"
    )
    assert fit["h"] < 1.6 * fit["line"] and fit["whole"] and fit["font"] >= 13, fit
    full = page.locator("header .subtitle-full")
    assert "f − f* is how far" in full.text_content()
    assert on_screen(page, "header .subtitle")
    # Play and the map are still on the first screen.
    assert on_screen(page, "#play-button") and on_screen(page, PLOT)
    assert no_sideways_scroll(page)
    assert page.problems == []


# ----- round 2: the students' link's targets, and its question on the first screen ------------


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
def test_the_students_links_full_page_link_is_a_44px_target(tab, orientation):
    page = tab("/?lesson=how_much_momentum&hide=controls", ORIENTATIONS[orientation])
    link = shown(page, ".controls-note a")
    assert [t["text"] for t in link] == ["Open the full page"]
    assert link[0]["h"] >= 44 and link[0]["w"] >= 44, link  # it was 159×18
    # Still one line (its target reaches past the line, not the line's height).
    line = page.evaluate(
        "() => { const n = document.querySelector('.controls-note');"
        " return [n.getBoundingClientRect().height, parseFloat(getComputedStyle(n).lineHeight)"
        " || 1.4 * parseFloat(getComputedStyle(n).fontSize)]; }"
    )
    assert line[0] < 1.6 * line[1]
    # A tap at the target's top edge opens the full page.
    b = page.locator(".controls-note a").bounding_box()
    page.wait_for_function("() => location.search.includes('race=')")
    page.touchscreen.tap(b["x"] + b["width"] / 2, b["y"] + 2)
    page.wait_for_function("() => !/[?&]hide=/.test(window.location.search)")


STUDENT_QUESTION = "/?lesson=ravine&beat=2&hide=controls"


def whole_on_screen(page, selector: str) -> list[bool]:
    """For each drawn element ``selector`` names: wholly inside the viewport."""
    return page.evaluate(
        "s => [...document.querySelectorAll(s)].filter(e => e.getClientRects().length)"
        ".map(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.top >= -0.5"
        " && r.left >= -0.5 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5; })",
        selector,
    )


@pytest.mark.parametrize("opened", [False, True])
def test_upright_a_students_question_is_on_the_first_screen_and_the_map_while_it_plays(tab, opened):
    page = tab(STUDENT_QUESTION, PORTRAIT)
    page.wait_for_function(
        "() => document.documentElement.classList.contains('predicting')"
        " && document.querySelectorAll('.predict-choice').length === 2"
    )
    # The question's choices and Reveal on the first screen, the caption not opened.
    assert whole_on_screen(page, ".predict-choice, .predict-reveal") == [True] * 3
    assert page.locator(".predict-prompt").is_visible()
    assert on_screen(page, PLOT)
    if opened:  # a student who opened the caption ("more") before answering
        page.locator("#lesson-caption .caption-fold").tap()
        page.wait_for_function(
            "() => document.querySelector('.caption-fold').getAttribute('aria-expanded') === 'true'"
        )
    page.locator(".predict-choice").first.tap()
    page.locator(".predict-reveal").tap()
    # Reveal plays the beat: while it plays the verdict is read and the whole map is seen.
    page.wait_for_function(f"() => {RACE}.playing")
    verdict = page.locator(".predict-verdict")
    assert verdict.is_visible() and "the answer is Momentum" in verdict.inner_text()
    assert on_screen(page, ".predict-verdict")
    assert on_screen(page, PLOT)
    page.wait_for_function(f"() => !{RACE}.playing")
    assert on_screen(page, PLOT)
    assert page.problems == []
